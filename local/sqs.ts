/**
 * A small SQS endpoint (AWS JSON 1.0, `AmazonSQS.*`) for the local runtime: standard
 * queues with visibility timeouts and redelivery by the injectable clock, long polling,
 * batches, and redrive to a dead-letter queue after maxReceiveCount.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody, sendJson } from './http-util';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MAX_MESSAGE_BYTES = 256 * 1024;

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

interface Queue {
  readonly name: string;
  readonly attributes: Record<string, string>;
  messages: Message[];
  counts: { sent: number; received: number; deleted: number };
}

export interface QueueStats {
  sent: number;
  received: number;
  deleted: number;
  visible: number;
  inFlight: number;
}

export interface LocalSqs {
  readonly endpoint: string;
  close(): Promise<void>;
  stats(): { sent: number; received: number; deleted: number; byQueue: Record<string, QueueStats> };
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export async function startLocalSqs(options: { host?: string; port?: number; now?: () => number } = {}): Promise<LocalSqs> {
  const now = options.now ?? Date.now;
  const queues = new Map<string, Queue>();
  const waiters = new Set<() => void>();
  let base = '';

  const queueUrl = (name: string) => `${base}/${ACCOUNT}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  const byUrl = (url: unknown): Queue => {
    const name = typeof url === 'string' ? url.split('/').pop() : undefined;
    const queue = name ? queues.get(name) : undefined;
    if (!queue) throw new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return queue;
  };
  const seconds = (queue: Queue, name: string, fallback: number) => Number(queue.attributes[name] ?? fallback);

  /** Moves messages past maxReceiveCount to the dead-letter queue. */
  function redrive(queue: Queue, message: Message): boolean {
    const policy = queue.attributes.RedrivePolicy ? (JSON.parse(queue.attributes.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number | string }) : undefined;
    if (!policy || message.receiveCount < Number(policy.maxReceiveCount)) return false;
    const dlq = queues.get(policy.deadLetterTargetArn.split(':').pop() ?? '');
    if (!dlq) return false;
    queue.messages = queue.messages.filter((m) => m !== message);
    dlq.messages.push({ ...message, visibleAt: now(), receiveCount: 0, receiptHandle: undefined, firstReceivedAt: undefined });
    dlq.counts.sent++;
    return true;
  }

  function takeVisible(queue: Queue, max: number, visibility: number): Message[] {
    const out: Message[] = [];
    const at = now();
    for (const message of [...queue.messages]) {
      if (out.length >= max) break;
      if (message.visibleAt > at) continue;
      // A message received maxReceiveCount times already goes to the DLQ instead of out again.
      if (redrive(queue, message)) continue;
      message.receiveCount++;
      message.firstReceivedAt ??= at;
      message.visibleAt = at + visibility * 1000;
      message.receiptHandle = `${message.id}:${randomUUID()}`;
      out.push(message);
    }
    queue.counts.received += out.length;
    return out;
  }

  function enqueue(queue: Queue, body: unknown, delaySeconds: unknown): Message {
    if (typeof body !== 'string' || body.length === 0) throw new SqsError('InvalidParameterValue', 'InvalidParameterValue', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) throw new SqsError('InvalidParameterValue', 'InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
    const message: Message = { id: randomUUID(), body, md5: md5(body), sentAt: now(), visibleAt: now() + Number(delaySeconds ?? 0) * 1000, receiveCount: 0 };
    queue.messages.push(message);
    queue.counts.sent++;
    for (const wake of waiters) wake();
    return message;
  }

  function remove(queue: Queue, handle: unknown): void {
    const index = queue.messages.findIndex((m) => m.receiptHandle === handle);
    if (index >= 0) {
      queue.messages.splice(index, 1);
      queue.counts.deleted++;
    } else if (typeof handle !== 'string' || !handle.includes(':')) {
      throw new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    }
  }

  async function receive(data: Record<string, unknown>) {
    const queue = byUrl(data.QueueUrl);
    const max = Number(data.MaxNumberOfMessages ?? 1);
    if (!(max >= 1 && max <= 10)) throw new SqsError('InvalidParameterValue', 'InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.');
    const visibility = Number(data.VisibilityTimeout ?? seconds(queue, 'VisibilityTimeout', 30));
    const wait = Number(data.WaitTimeSeconds ?? seconds(queue, 'ReceiveMessageWaitTimeSeconds', 0));
    let messages = takeVisible(queue, max, visibility);
    if (messages.length === 0 && wait > 0) {
      const deadline = Date.now() + wait * 1000;
      while (messages.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          // Re-check now and then too: visibility timeouts expire without a send.
          const timer = setTimeout(wake, Math.min(100, Math.max(1, deadline - Date.now())));
          waiters.add(wake);
        });
        messages = takeVisible(queue, max, visibility);
      }
    }
    return {
      Messages: messages.map((m) => ({
        MessageId: m.id,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: m.md5,
        Body: m.body,
        Attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
          SenderId: ACCOUNT,
        },
      })),
    };
  }

  const operations: Record<string, (data: Record<string, unknown>) => unknown> = {
    CreateQueue(data) {
      const name = String(data.QueueName ?? '');
      if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) throw new SqsError('InvalidParameterValue', 'InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
      if (!queues.has(name)) queues.set(name, { name, attributes: { ...((data.Attributes as Record<string, string>) ?? {}) }, messages: [], counts: { sent: 0, received: 0, deleted: 0 } });
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueUrl(data) {
      const queue = queues.get(String(data.QueueName));
      if (!queue) throw new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
      return { QueueUrl: queueUrl(queue.name) };
    },
    ListQueues(data) {
      const prefix = String(data.QueueNamePrefix ?? '');
      return { QueueUrls: [...queues.keys()].filter((n) => n.startsWith(prefix)).map(queueUrl) };
    },
    GetQueueAttributes(data) {
      const queue = byUrl(data.QueueUrl);
      const at = now();
      return {
        Attributes: {
          ...queue.attributes,
          QueueArn: queueArn(queue.name),
          ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= at).length),
          ApproximateNumberOfMessagesNotVisible: String(queue.messages.filter((m) => m.visibleAt > at).length),
          VisibilityTimeout: String(seconds(queue, 'VisibilityTimeout', 30)),
        },
      };
    },
    SetQueueAttributes(data) {
      Object.assign(byUrl(data.QueueUrl).attributes, data.Attributes ?? {});
      return {};
    },
    SendMessage(data) {
      const m = enqueue(byUrl(data.QueueUrl), data.MessageBody, data.DelaySeconds);
      return { MessageId: m.id, MD5OfMessageBody: m.md5 };
    },
    SendMessageBatch(data) {
      const queue = byUrl(data.QueueUrl);
      const entries = (data.Entries as { Id: string; MessageBody: string; DelaySeconds?: number }[]) ?? [];
      if (entries.length === 0 || entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'Maximum number of entries per request are 10.');
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries) {
        try {
          const m = enqueue(queue, entry.MessageBody, entry.DelaySeconds);
          Successful.push({ Id: entry.Id, MessageId: m.id, MD5OfMessageBody: m.md5 });
        } catch (error) {
          Failed.push({ Id: entry.Id, SenderFault: true, Code: (error as SqsError).type ?? 'InternalError', Message: String((error as Error).message) });
        }
      }
      return { Successful, Failed };
    },
    ReceiveMessage: receive,
    DeleteMessage(data) {
      remove(byUrl(data.QueueUrl), data.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch(data) {
      const queue = byUrl(data.QueueUrl);
      const entries = (data.Entries as { Id: string; ReceiptHandle: string }[]) ?? [];
      for (const e of entries) remove(queue, e.ReceiptHandle);
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
    ChangeMessageVisibility(data) {
      const message = byUrl(data.QueueUrl).messages.find((m) => m.receiptHandle === data.ReceiptHandle);
      if (!message) throw new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'Message not inflight.');
      message.visibleAt = now() + Number(data.VisibilityTimeout) * 1000;
      return {};
    },
    ChangeMessageVisibilityBatch(data) {
      const queue = byUrl(data.QueueUrl);
      const entries = (data.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]) ?? [];
      for (const e of entries) {
        const message = queue.messages.find((m) => m.receiptHandle === e.ReceiptHandle);
        if (message) message.visibleAt = now() + Number(e.VisibilityTimeout) * 1000;
      }
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    },
    PurgeQueue(data) {
      byUrl(data.QueueUrl).messages = [];
      return {};
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const run = operations[operation];
    const body = (await readBody(req)).toString('utf8');
    try {
      if (!run) throw new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `Unsupported operation ${operation}`);
      const out = await run(body ? (JSON.parse(body) as Record<string, unknown>) : {});
      sendJson(res, 200, out, { 'content-type': 'application/x-amz-json-1.0' });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      sendJson(res, 400, { __type: `com.amazonaws.sqs#${error.type}`, message: error.message }, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-query-error': `${error.queryCode};Sender`,
      });
    }
  }

  const server = await listen(handle, options);
  base = server.url;
  return {
    endpoint: server.url,
    close: () => {
      for (const wake of waiters) wake();
      return server.close();
    },
    stats() {
      const byQueue: Record<string, QueueStats> = {};
      let sent = 0;
      let received = 0;
      let deleted = 0;
      const at = now();
      for (const q of queues.values()) {
        byQueue[q.name] = { ...q.counts, visible: q.messages.filter((m) => m.visibleAt <= at).length, inFlight: q.messages.filter((m) => m.visibleAt > at).length };
        sent += q.counts.sent;
        received += q.counts.received;
        deleted += q.counts.deleted;
      }
      return { sent, received, deleted, byQueue };
    },
  };
}
