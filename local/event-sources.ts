/**
 * Event source mappings with Lambda's semantics: the entries table's stream drives the
 * stream handler (batches in order, `batchItemFailures` checkpointing, bisect on error,
 * retries, then the batch's description to an on-failure queue), and the fan-out queue
 * drives the fan-out handler (partial batch responses; failed messages come back after
 * their visibility timeout, then go to the DLQ by redrive).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamSdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Invoke = (event: unknown) => Promise<unknown>;
export type Cadence = 'instant' | 'aws';

interface BatchResponse {
  batchItemFailures?: { itemIdentifier: string }[];
}

export interface StreamSourceOptions {
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly tableName: string;
  readonly invoke: Invoke;
  readonly onFailureQueueUrl: string;
  readonly batchSize?: number;
  readonly maxRetries?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** Lambda's DynamoDB stream record shape from the Streams API's. */
function toLambdaRecord(record: StreamSdkRecord, streamArn: string): Record<string, unknown> {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    dynamodb: { ...record.dynamodb, ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}) },
    ...(record.userIdentity ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } } : {}),
    eventSourceARN: streamArn,
  };
}

const sequenceOf = (record: Record<string, unknown>) => String((record.dynamodb as { SequenceNumber?: string }).SequenceNumber);

export class StreamEventSource {
  private stopped = false;
  private loop?: Promise<void>;
  /** The highest sequence number handled (delivered, or given up on). */
  processed = 0;
  busy = false;
  /** Records read while paused wait here, in order, as with a disabled event source mapping. */
  paused = false;
  /** How many records read are being held back by the pause. */
  held = 0;

  constructor(
    private readonly options: StreamSourceOptions,
    /** 'instant' polls continuously; 'aws' polls 4×/s as Lambda does. May change while running. */
    public cadence: Cadence,
  ) {}

  start(): void {
    this.loop = this.run().catch((error: unknown) => this.options.log?.({ kind: 'event-source', source: 'stream', error: String(error) }));
  }

  private async run(): Promise<void> {
    const { dynamodb, streams, tableName } = this.options;
    const table = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${tableName} has no stream`);
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
    let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    // The local GetRecords waits for the next record, so instant polling needs no sleep of its own.
    const idleMs = () => (this.cadence === 'instant' ? 0 : 250);
    while (!this.stopped && iterator) {
      let out;
      try {
        out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.batchSize ?? 100 }));
      } catch (error) {
        // Like Lambda's poller: a failed read is retried, never the end of the mapping.
        this.options.log?.({ kind: 'event-source', source: 'stream', error: String(error) });
        await sleep(100);
        continue;
      }
      iterator = out.NextShardIterator;
      const records = (out.Records ?? []).map((r) => toLambdaRecord(r, streamArn));
      if (records.length === 0) {
        await sleep(idleMs());
        continue;
      }
      this.held = records.length;
      while (this.paused && !this.stopped) await sleep(5);
      this.held = 0;
      this.busy = true;
      try {
        await this.deliver(records, streamArn, shardId ?? '');
      } finally {
        this.busy = false;
      }
      if (this.cadence === 'aws') await sleep(idleMs());
    }
  }

  /**
   * One batch to completion: checkpoint past what succeeded, bisect a failing batch down
   * to the failing record, retry it, then give its description to the on-failure queue
   * and move on — one bad record fails alone.
   */
  private async deliver(records: Record<string, unknown>[], streamArn: string, shardId: string): Promise<void> {
    const maxRetries = this.options.maxRetries ?? 3;
    let pending = records;
    let limit = pending.length;
    let attempts = 0;
    while (pending.length > 0) {
      const batch = pending.slice(0, limit);
      let failedAt: number | undefined;
      try {
        const response = (await this.options.invoke({ Records: batch })) as BatchResponse | undefined;
        const failures = response?.batchItemFailures ?? [];
        if (failures.length > 0) {
          const ids = new Set(failures.map((f) => f.itemIdentifier));
          const index = batch.findIndex((r) => ids.has(sequenceOf(r)));
          failedAt = index < 0 ? 0 : index;
        }
      } catch {
        failedAt = 0;
      }
      if (failedAt === undefined) {
        this.processed = Number(sequenceOf(batch[batch.length - 1] as Record<string, unknown>));
        pending = pending.slice(batch.length);
        limit = pending.length;
        attempts = 0;
        continue;
      }
      if (failedAt > 0) {
        this.processed = Number(sequenceOf(batch[failedAt - 1] as Record<string, unknown>));
        pending = pending.slice(failedAt);
        limit = pending.length;
        attempts = 0;
        continue;
      }
      if (batch.length > 1) {
        limit = Math.ceil(batch.length / 2);
        continue;
      }
      attempts++;
      if (attempts > maxRetries) {
        const failed = batch[0] as Record<string, unknown>;
        await this.options.sqs.send(
          new SendMessageCommand({
            QueueUrl: this.options.onFailureQueueUrl,
            MessageBody: JSON.stringify({
              requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
              DDBStreamBatchInfo: { shardId, startSequenceNumber: sequenceOf(failed), endSequenceNumber: sequenceOf(failed), batchSize: 1, streamArn },
            }),
          }),
        );
        this.options.log?.({ kind: 'event-source', source: 'stream', gave_up: sequenceOf(failed) });
        this.processed = Number(sequenceOf(failed));
        pending = pending.slice(1);
        limit = pending.length;
        attempts = 0;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

export interface QueueSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly invoke: Invoke;
  /** Concurrent pollers, as Lambda runs several for one queue. */
  readonly concurrency?: number;
  /** Messages per invocation at most (default 10). */
  readonly batchSize?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export class QueueEventSource {
  private stopped = false;
  private loops: Promise<void>[] = [];
  inFlight = 0;

  constructor(private readonly options: QueueSourceOptions) {}

  start(): void {
    this.loops = Array.from({ length: this.options.concurrency ?? 4 }, () =>
      this.run().catch((error: unknown) => this.options.log?.({ kind: 'event-source', source: 'sqs', error: String(error) })),
    );
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pollOnce();
      } catch (error) {
        // Like Lambda's poller: a failed receive or delete is retried, never the end of the mapping.
        this.options.log?.({ kind: 'event-source', source: 'sqs', error: String(error) });
        await sleep(100);
      }
    }
  }

  private async pollOnce(): Promise<void> {
    const { sqs, queueUrl, queueArn } = this.options;
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: this.options.batchSize ?? 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    this.inFlight++;
    try {
      const event = {
        Records: messages.map((m) => ({
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body,
          attributes: m.Attributes ?? {},
          messageAttributes: {},
          md5OfBody: m.MD5OfBody,
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn,
          awsRegion: 'us-east-1',
        })),
      };
      let failed = new Set<string>(messages.map((m) => m.MessageId as string));
      try {
        const response = (await this.options.invoke(event)) as BatchResponse | undefined;
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        // The whole batch comes back after its visibility timeout.
      }
      const done = messages.filter((m) => !failed.has(m.MessageId as string));
      if (done.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      }
    } finally {
      this.inFlight--;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}
