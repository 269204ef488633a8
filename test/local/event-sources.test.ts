import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';
import { QueueEventSource, StreamEventSource } from '../../local/event-sources';
import { startLocalSqs, type LocalSqs } from '../../local/sqs';

const config = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const names = { catalog: 'e-catalog', entries: 'e-entries', connections: 'e-connections', idempotency: 'e-idempotency', entitlements: 'e-entitlements' };

let ddbServer: LocalDynamoDb;
let sqsServer: LocalSqs;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let clock = Date.now();

beforeAll(async () => {
  ddbServer = await startLocalDynamoDb({ ttlSweepIntervalMs: 0 });
  sqsServer = await startLocalSqs({ now: () => clock });
  ddb = new DynamoDBClient({ ...config, endpoint: ddbServer.endpoint });
  sqs = new SQSClient({ ...config, endpoint: sqsServer.endpoint });
  await createTables(ddb, names);
});

afterAll(async () => {
  await sqsServer?.close();
  await ddbServer?.close();
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

type StreamEvent = { Records: { eventName: string; dynamodb: { Keys: { seq: { N: string } }; SequenceNumber: string } }[] };

describe('the entries stream event source', () => {
  it('delivers records in commit order, retries a failing record, then sends its batch to the on-failure queue and moves on', async () => {
    const failures = (await sqs.send(new CreateQueueCommand({ QueueName: 'stream-failures' }))).QueueUrl as string;
    const seen: string[] = [];
    let poisonAttempts = 0;
    const source = new StreamEventSource(
      {
        dynamodb: ddb,
        streams: new DynamoDBStreamsClient({ ...config, endpoint: ddbServer.endpoint }),
        sqs,
        tableName: names.entries,
        onFailureQueueUrl: failures,
        maxRetries: 2,
        invoke: async (event) => {
          const records = (event as StreamEvent).Records;
          const poison = records.findIndex((r) => r.dynamodb.Keys.seq.N === '3');
          for (const r of records.slice(0, poison < 0 ? records.length : poison)) seen.push(r.dynamodb.Keys.seq.N);
          if (poison < 0) return { batchItemFailures: [] };
          poisonAttempts++;
          return { batchItemFailures: [{ itemIdentifier: records[poison]?.dynamodb.SequenceNumber }] };
        },
      },
      'instant',
    );
    const doc = DynamoDBDocumentClient.from(ddb);
    for (let seq = 1; seq <= 5; seq++) await doc.send(new PutCommand({ TableName: names.entries, Item: { stream: 's', seq } }));
    source.start();
    await until(() => seen.includes('5'));
    await source.stop();
    expect(seen.filter((s) => s !== '3')).toEqual(['1', '2', '4', '5']);
    // Bisected down to the poisoned record, then tried 1 + 2 retries alone.
    expect(poisonAttempts).toBeGreaterThanOrEqual(3);
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failures, MaxNumberOfMessages: 10 }));
    const info = JSON.parse(out.Messages?.[0]?.Body ?? '{}') as { DDBStreamBatchInfo: { batchSize: number; startSequenceNumber: string } };
    expect(out.Messages).toHaveLength(1);
    expect(info.DDBStreamBatchInfo.batchSize).toBe(1);
  });

  it('holds records back while paused, as a disabled mapping does, and delivers them in order once resumed', async () => {
    const seen: string[] = [];
    const source = new StreamEventSource(
      {
        dynamodb: ddb,
        streams: new DynamoDBStreamsClient({ ...config, endpoint: ddbServer.endpoint }),
        sqs,
        tableName: names.entries,
        onFailureQueueUrl: 'unused',
        invoke: async (event) => {
          for (const r of (event as PausedEvent).Records) if (r.dynamodb.Keys.stream.S === 'paused') seen.push(r.dynamodb.Keys.seq.N);
          return { batchItemFailures: [] };
        },
      },
      'instant',
    );
    source.paused = true;
    source.start();
    const doc = DynamoDBDocumentClient.from(ddb);
    for (let seq = 1; seq <= 3; seq++) await doc.send(new PutCommand({ TableName: names.entries, Item: { stream: 'paused', seq } }));
    await until(() => source.held > 0);
    expect(seen).toEqual([]);
    source.paused = false;
    await until(() => seen.length === 3);
    await source.stop();
    expect(seen).toEqual(['1', '2', '3']);
  });
});

type PausedEvent = { Records: { dynamodb: { Keys: { stream: { S: string }; seq: { N: string } } } }[] };

describe('the fan-out queue event source', () => {
  it('deletes the messages a batch handled and redelivers only the failed one after its visibility timeout', async () => {
    const queue = (await sqs.send(new CreateQueueCommand({ QueueName: 'fanout-test', Attributes: { VisibilityTimeout: '30' } }))).QueueUrl as string;
    const deliveries: string[] = [];
    let failOnce = true;
    const source = new QueueEventSource({
      sqs,
      queueUrl: queue,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:fanout-test',
      concurrency: 1,
      invoke: async (event) => {
        const records = (event as { Records: { messageId: string; body: string }[] }).Records;
        for (const r of records) deliveries.push(r.body);
        const bad = records.find((r) => r.body === 'b');
        if (bad && failOnce) {
          failOnce = false;
          return { batchItemFailures: [{ itemIdentifier: bad.messageId }] };
        }
        return { batchItemFailures: [] };
      },
    });
    for (const body of ['a', 'b', 'c']) await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: body }));
    source.start();
    await until(() => deliveries.length >= 3);
    clock += 31_000;
    await until(() => deliveries.length >= 4);
    await source.stop();
    expect(deliveries.slice(3)).toEqual(['b']);
    await until(() => sqsServer.stats().byQueue['fanout-test']?.deleted === 3);
  });
});
