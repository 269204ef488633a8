/**
 * A small SQS endpoint (AWS JSON 1.0, `AmazonSQS.*`, query-compatible errors) for the local
 * runtime: standard queues with delays, visibility timeouts and redelivery by the injectable
 * clock, retention, long polling, batches, message attributes and redrive to a dead-letter
 * queue once a message has been received more than maxReceiveCount times.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, listen, readBody, sendJson } from './http-util';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const MAX_MESSAGE_BYTES = 262_144;
const MAX_BATCH_ENTRIES = 10;
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** How often a waiting long poll looks again: a visibility timeout can expire by the fake clock without a send. */
const LONG_POLL_RECHECK_MS = 50;
const JSON_CONTENT_TYPE = { 'content-type': 'application/x-amz-json-1.0' };

export interface QueueStats {
  sent: number;
  received: number;
  deleted: number;
  /** Messages a receive would get now. */
  visible: number;
  /** Messages not visible now: received and not yet deleted, or still delayed. */
  inFlight: number;
}

export interface LocalSqs {
  readonly endpoint: string;
  close(): Promise<void>;
  stats(): { sent: number; received: number; deleted: number; byQueue: Record<string, QueueStats> };
}

interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  readonly md5OfAttributes?: string;
  readonly sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
  deadLetterSourceArn?: string;
}

interface Queue {
  readonly name: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  readonly attributes: Record<string, string>;
  messages: Message[];
  readonly counts: { sent: number; received: number; deleted: number };
}

interface ErrorKind {
  readonly type: string;
  readonly queryCode: string;
  readonly status: number;
}

/** The error shapes the SDK maps to its exception classes (type = class name). */
const ERRORS = {
  QueueDoesNotExist: { type: 'QueueDoesNotExist', queryCode: 'AWS.SimpleQueueService.NonExistentQueue', status: 400 },
  QueueNameExists: { type: 'QueueNameExists', queryCode: 'QueueAlreadyExists', status: 400 },
  InvalidAttributeName: { type: 'InvalidAttributeName', queryCode: 'InvalidAttributeName', status: 400 },
  InvalidAttributeValue: { type: 'InvalidAttributeValue', queryCode: 'InvalidAttributeValue', status: 400 },
  ReceiptHandleIsInvalid: { type: 'ReceiptHandleIsInvalid', queryCode: 'ReceiptHandleIsInvalid', status: 404 },
  MessageNotInflight: { type: 'MessageNotInflight', queryCode: 'AWS.SimpleQueueService.MessageNotInflight', status: 400 },
  EmptyBatchRequest: { type: 'EmptyBatchRequest', queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest', status: 400 },
  TooManyEntriesInBatchRequest: { type: 'TooManyEntriesInBatchRequest', queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', status: 400 },
  BatchEntryIdsNotDistinct: { type: 'BatchEntryIdsNotDistinct', queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', status: 400 },
  InvalidBatchEntryId: { type: 'InvalidBatchEntryId', queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId', status: 400 },
  BatchRequestTooLong: { type: 'BatchRequestTooLong', queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong', status: 400 },
  InvalidMessageContents: { type: 'InvalidMessageContents', queryCode: 'InvalidMessageContents', status: 400 },
  UnsupportedOperation: { type: 'UnsupportedOperation', queryCode: 'AWS.SimpleQueueService.UnsupportedOperation', status: 400 },
  InvalidParameterValue: { type: 'InvalidParameterValueException', queryCode: 'InvalidParameterValue', status: 400 },
  MissingParameter: { type: 'MissingParameter', queryCode: 'MissingParameter', status: 400 },
  SerializationException: { type: 'SerializationException', queryCode: 'MalformedQueryString', status: 400 },
} satisfies Record<string, ErrorKind>;

class SqsError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const queueMissing = () => new SqsError(ERRORS.QueueDoesNotExist, 'The specified queue does not exist.');
const invalidValue = (message: string) => new SqsError(ERRORS.InvalidParameterValue, message);

/** Settable attributes, their defaults and integer ranges (absent range: any string). */
const SETTABLE: Record<string, { default?: string; range?: readonly [number, number] }> = {
  DelaySeconds: { default: '0', range: [0, 900] },
  MaximumMessageSize: { default: String(MAX_MESSAGE_BYTES), range: [1024, MAX_MESSAGE_BYTES] },
  MessageRetentionPeriod: { default: '345600', range: [60, 1_209_600] },
  ReceiveMessageWaitTimeSeconds: { default: '0', range: [0, 20] },
  VisibilityTimeout: { default: '30', range: [0, 43_200] },
  RedrivePolicy: {},
  RedriveAllowPolicy: {},
  Policy: {},
  KmsMasterKeyId: {},
  KmsDataKeyReusePeriodSeconds: { range: [60, 86_400] },
  SqsManagedSseEnabled: { default: 'true' },
};
const READ_ONLY = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'CreatedTimestamp', 'LastModifiedTimestamp', 'QueueArn'];
const SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'DeadLetterQueueSourceArn'];

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** Characters SQS accepts in a message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** MD5OfMessageAttributes as SQS computes it: names sorted, each part length-prefixed. */
function md5OfAttributes(attributes: Record<string, MessageAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const value = attributes[name] as MessageAttributeValue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    const binary = value.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    lengthPrefixed(binary ? Buffer.from(value.BinaryValue as string, 'base64') : Buffer.from(value.StringValue ?? '', 'utf8'));
  }
  return md5(Buffer.concat(parts));
}

function parseMessageAttributes(raw: unknown): Record<string, MessageAttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object') throw invalidValue('MessageAttributes must be a map.');
  const out: Record<string, MessageAttributeValue> = {};
  const entries = Object.entries(raw as Record<string, Record<string, unknown>>);
  if (entries.length > 10) throw invalidValue('Number of message attributes [' + entries.length + '] exceeds the allowed maximum [10].');
  for (const [name, value] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || /^(aws|amazon)\./i.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw invalidValue(`Message attribute name '${name}' is invalid.`);
    }
    const dataType = value?.DataType;
    if (typeof dataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(dataType)) throw invalidValue(`The message attribute '${name}' has an invalid message attribute type.`);
    if (dataType.startsWith('Binary')) {
      if (typeof value.BinaryValue !== 'string') throw invalidValue(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      out[name] = { DataType: dataType, BinaryValue: value.BinaryValue };
    } else {
      const text = value.StringValue;
      if (typeof text !== 'string' || text.length === 0) throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute value.`);
      if (dataType.startsWith('Number') && !Number.isFinite(Number(text))) throw invalidValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      if (INVALID_CHARACTER.test(text)) throw new SqsError(ERRORS.InvalidMessageContents, `Invalid characters found in the message attribute '${name}'.`);
      out[name] = { DataType: dataType, StringValue: text };
    }
  }
  return out;
}

const attributesBytes = (attributes: Record<string, MessageAttributeValue>) =>
  Object.entries(attributes).reduce(
    (sum, [name, v]) => sum + Buffer.byteLength(name) + Buffer.byteLength(v.DataType) + (v.BinaryValue !== undefined ? Buffer.from(v.BinaryValue, 'base64').length : Buffer.byteLength(v.StringValue ?? '')),
    0,
  );

function integer(value: unknown, name: string, [min, max]: readonly [number, number], fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw invalidValue(`Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`);
  return n;
}

/** Entries of a batch request: 1..10, ids distinct and well formed. */
function batchEntries<T extends { Id?: unknown }>(raw: unknown): T[] {
  const entries = Array.isArray(raw) ? (raw as T[]) : [];
  if (entries.length === 0) throw new SqsError(ERRORS.EmptyBatchRequest, 'There should be at least one SendMessageBatchRequestEntry in the request.');
  if (entries.length > MAX_BATCH_ENTRIES) throw new SqsError(ERRORS.TooManyEntriesInBatchRequest, `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
  const ids = new Set<unknown>();
  for (const entry of entries) {
    if (typeof entry.Id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(entry.Id)) {
      throw new SqsError(ERRORS.InvalidBatchEntryId, 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(entry.Id)) throw new SqsError(ERRORS.BatchEntryIdsNotDistinct, `Id ${entry.Id} repeated.`);
    ids.add(entry.Id);
  }
  return entries;
}

/** Runs one entry of a batch; an SqsError becomes that entry's failure instead of the request's. */
function perEntry<T extends { Id: string }>(entries: readonly T[], run: (entry: T) => Record<string, unknown>) {
  const Successful: Record<string, unknown>[] = [];
  const Failed: Record<string, unknown>[] = [];
  for (const entry of entries) {
    try {
      Successful.push({ Id: entry.Id, ...run(entry) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      Failed.push({ Id: entry.Id, SenderFault: true, Code: error.kind.queryCode, Message: error.message });
    }
  }
  return { Successful, Failed };
}

/** Does a receive's name list (All, exact names, or `prefix.*`) ask for this name? */
const wants = (requested: readonly string[], name: string) =>
  requested.some((r) => r === 'All' || r === '.*' || r === name || (r.endsWith('.*') && name.startsWith(r.slice(0, -1))));

export async function startLocalSqs(options: { host?: string; port?: number; now?: () => number } = {}): Promise<LocalSqs> {
  const now = options.now ?? Date.now;
  const queues = new Map<string, Queue>();
  const waiters = new Set<() => void>();
  let closed = false;
  let base = '';

  const wakeWaiters = () => {
    for (const wake of [...waiters]) wake();
  };
  const queueUrl = (name: string) => `${base}/${ACCOUNT}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  const setting = (queue: Queue, name: string) => Number(queue.attributes[name] ?? SETTABLE[name]?.default);

  function byUrl(url: unknown): Queue {
    if (typeof url !== 'string' || url === '') throw new SqsError(ERRORS.MissingParameter, 'The request must contain the parameter QueueUrl.');
    const queue = queues.get(url.replace(/\/+$/, '').split('/').pop() ?? '');
    if (!queue) throw queueMissing();
    return queue;
  }

  /** Drops messages older than the retention period (from their first enqueue, DLQ moves included). */
  function expire(queue: Queue, at: number): void {
    const retention = setting(queue, 'MessageRetentionPeriod') * 1000;
    if (queue.messages.some((m) => m.sentAt + retention <= at)) queue.messages = queue.messages.filter((m) => m.sentAt + retention > at);
  }

  function census(queue: Queue) {
    const at = now();
    expire(queue, at);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages) {
      if (m.visibleAt <= at) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  function parseRedrivePolicy(text: string): string {
    let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      policy = JSON.parse(text) as typeof policy;
    } catch {
      throw new SqsError(ERRORS.InvalidAttributeValue, 'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.');
    }
    const maxReceiveCount = Number(policy.maxReceiveCount);
    if (typeof policy.deadLetterTargetArn !== 'string' || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new SqsError(ERRORS.InvalidAttributeValue, 'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy needs deadLetterTargetArn and a maxReceiveCount from 1 to 1000.');
    }
    const target = policy.deadLetterTargetArn.split(':');
    if (target.length !== 6 || target[2] !== 'sqs' || !queues.has(target[5] ?? '')) {
      throw new SqsError(ERRORS.InvalidAttributeValue, 'Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.');
    }
    return JSON.stringify({ deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount });
  }

  /** Validates settable attributes and answers them normalized. */
  function checkedAttributes(raw: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
      if (name === 'FifoQueue' || name === 'ContentBasedDeduplication' || name === 'DeduplicationScope' || name === 'FifoThroughputLimit') {
        throw new SqsError(ERRORS.InvalidAttributeName, `FIFO queues are not served by the local SQS endpoint (attribute ${name}).`);
      }
      const spec = SETTABLE[name];
      if (!spec) throw new SqsError(ERRORS.InvalidAttributeName, `Unknown Attribute ${name}.`);
      const text = String(value);
      if (spec.range) {
        const n = Number(text);
        if (text.trim() === '' || !Number.isInteger(n) || n < spec.range[0] || n > spec.range[1]) {
          throw new SqsError(ERRORS.InvalidAttributeValue, `Invalid value for the parameter ${name}. Reason: Must be an integer from ${spec.range[0]} to ${spec.range[1]}.`);
        }
        out[name] = String(n);
      } else {
        out[name] = name === 'RedrivePolicy' && text !== '' ? parseRedrivePolicy(text) : text;
      }
    }
    return out;
  }

  /** A message received more than maxReceiveCount times goes to the dead-letter queue instead of out again. */
  function redrive(queue: Queue, message: Message, at: number): boolean {
    const text = queue.attributes.RedrivePolicy;
    if (!text) return false;
    const policy = JSON.parse(text) as { deadLetterTargetArn: string; maxReceiveCount: number };
    if (message.receiveCount < policy.maxReceiveCount) return false;
    const dlq = queues.get(policy.deadLetterTargetArn.split(':').pop() ?? '');
    if (!dlq || dlq === queue) return false;
    queue.messages = queue.messages.filter((m) => m !== message);
    // Standard queues keep the message id, its enqueue time (retention counts from it) and its receive count.
    message.visibleAt = at;
    message.receiptHandle = undefined;
    message.deadLetterSourceArn = queueArn(queue.name);
    dlq.messages.push(message);
    dlq.counts.sent++;
    return true;
  }

  function takeVisible(queue: Queue, max: number, visibilitySeconds: number): Message[] {
    const at = now();
    expire(queue, at);
    const out: Message[] = [];
    for (const message of [...queue.messages]) {
      if (out.length >= max) break;
      if (message.visibleAt > at || redrive(queue, message, at)) continue;
      message.receiveCount++;
      message.firstReceivedAt ??= at;
      message.visibleAt = at + visibilitySeconds * 1000;
      message.receiptHandle = Buffer.from(`${queue.name}:${message.id}:${randomBytes(12).toString('hex')}`).toString('base64url');
      out.push(message);
    }
    queue.counts.received += out.length;
    return out;
  }

  function enqueue(queue: Queue, entry: { MessageBody?: unknown; DelaySeconds?: unknown; MessageAttributes?: unknown }): Message {
    const body = entry.MessageBody;
    if (typeof body !== 'string' || body.length === 0) throw new SqsError(ERRORS.MissingParameter, 'The request must contain the parameter MessageBody.');
    if (INVALID_CHARACTER.test(body)) throw new SqsError(ERRORS.InvalidMessageContents, 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
    const attributes = parseMessageAttributes(entry.MessageAttributes);
    const maxBytes = setting(queue, 'MaximumMessageSize');
    if (Buffer.byteLength(body) + attributesBytes(attributes) > maxBytes) {
      throw invalidValue(`One or more parameters are invalid. Reason: Message must be shorter than ${maxBytes} bytes.`);
    }
    const delay = integer(entry.DelaySeconds, 'DelaySeconds', [0, 900], setting(queue, 'DelaySeconds'));
    const at = now();
    const message: Message = { id: randomUUID(), body, md5OfBody: md5(body), attributes, md5OfAttributes: md5OfAttributes(attributes), sentAt: at, visibleAt: at + delay * 1000, receiveCount: 0 };
    queue.messages.push(message);
    queue.counts.sent++;
    wakeWaiters();
    return message;
  }

  /** Finds the message a receipt handle names now; undefined for a stale handle (the message was received again or deleted). */
  function byHandle(queue: Queue, handle: unknown): Message | undefined {
    const decoded = typeof handle === 'string' ? Buffer.from(handle, 'base64url').toString('utf8').split(':') : [];
    if (decoded.length !== 3 || decoded[0] !== queue.name) throw new SqsError(ERRORS.ReceiptHandleIsInvalid, `The input receipt handle "${String(handle)}" is not a valid receipt handle.`);
    return queue.messages.find((m) => m.receiptHandle === handle);
  }

  function remove(queue: Queue, handle: unknown): void {
    const message = byHandle(queue, handle);
    if (!message) return; // As SQS: deleting with a stale handle succeeds.
    queue.messages = queue.messages.filter((m) => m !== message);
    queue.counts.deleted++;
  }

  function changeVisibility(queue: Queue, handle: unknown, seconds: unknown): void {
    const timeout = integer(seconds, 'VisibilityTimeout', [0, 43_200], Number.NaN);
    if (Number.isNaN(timeout)) throw new SqsError(ERRORS.MissingParameter, 'The request must contain the parameter VisibilityTimeout.');
    const message = byHandle(queue, handle);
    const at = now();
    if (!message || message.visibleAt <= at) throw new SqsError(ERRORS.MessageNotInflight, 'Message does not exist or is not available for visibility timeout change.');
    message.visibleAt = at + timeout * 1000;
    wakeWaiters();
  }

  /** Waits (real time) until woken or `ms` pass, the client goes away or the server closes. */
  function pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
      signal.addEventListener('abort', wake);
    });
  }

  async function receive(data: Record<string, unknown>, signal: AbortSignal) {
    const queue = byUrl(data.QueueUrl);
    const max = integer(data.MaxNumberOfMessages, 'MaxNumberOfMessages', [1, 10], 1);
    const visibility = integer(data.VisibilityTimeout, 'VisibilityTimeout', [0, 43_200], setting(queue, 'VisibilityTimeout'));
    const wait = integer(data.WaitTimeSeconds, 'WaitTimeSeconds', [0, 20], setting(queue, 'ReceiveMessageWaitTimeSeconds'));
    const systemNames = [...((data.MessageSystemAttributeNames as string[] | undefined) ?? []), ...((data.AttributeNames as string[] | undefined) ?? [])];
    const attributeNames = (data.MessageAttributeNames as string[] | undefined) ?? [];

    let messages = takeVisible(queue, max, visibility);
    const deadline = Date.now() + wait * 1000;
    while (messages.length === 0 && !closed && !signal.aborted && queues.get(queue.name) === queue && Date.now() < deadline) {
      await pause(Math.min(LONG_POLL_RECHECK_MS, deadline - Date.now()), signal);
      if (closed || signal.aborted) break;
      messages = takeVisible(queue, max, visibility);
    }

    return {
      Messages: messages.map((m) => {
        const system: Record<string, string | undefined> = {
          SenderId: ACCOUNT,
          SentTimestamp: String(m.sentAt),
          ApproximateReceiveCount: String(m.receiveCount),
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
          DeadLetterQueueSourceArn: m.deadLetterSourceArn,
        };
        const Attributes = Object.fromEntries(SYSTEM_ATTRIBUTES.filter((n) => system[n] !== undefined && wants(systemNames, n)).map((n) => [n, system[n] as string]));
        const MessageAttributes = Object.fromEntries(Object.entries(m.attributes).filter(([n]) => wants(attributeNames, n)));
        const hasAttributes = Object.keys(MessageAttributes).length > 0;
        return {
          MessageId: m.id,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
          ...(hasAttributes ? { MessageAttributes, MD5OfMessageAttributes: md5OfAttributes(MessageAttributes) } : {}),
        };
      }),
    };
  }

  const operations: Record<string, (data: Record<string, unknown>, signal: AbortSignal) => unknown> = {
    CreateQueue(data) {
      const name = data.QueueName;
      if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
        throw invalidValue(
          typeof name === 'string' && name.endsWith('.fifo')
            ? 'FIFO queues are not served by the local SQS endpoint.'
            : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
        );
      }
      const attributes = checkedAttributes(data.Attributes);
      const existing = queues.get(name);
      if (existing) {
        const differing = Object.keys(attributes).find((k) => (existing.attributes[k] ?? SETTABLE[k]?.default) !== attributes[k]);
        if (differing) throw new SqsError(ERRORS.QueueNameExists, `A queue already exists with the same name and a different value for attribute ${differing}`);
      } else {
        const at = now();
        queues.set(name, { name, createdAt: at, lastModifiedAt: at, attributes, messages: [], counts: { sent: 0, received: 0, deleted: 0 } });
      }
      return { QueueUrl: queueUrl(name) };
    },
    GetQueueUrl(data) {
      const queue = queues.get(String(data.QueueName));
      if (!queue) throw queueMissing();
      return { QueueUrl: queueUrl(queue.name) };
    },
    ListQueues(data) {
      const prefix = typeof data.QueueNamePrefix === 'string' ? data.QueueNamePrefix : '';
      const after = typeof data.NextToken === 'string' ? Buffer.from(data.NextToken, 'base64url').toString('utf8') : '';
      const limit = integer(data.MaxResults, 'MaxResults', [1, 1000], 1000);
      const names = [...queues.keys()].filter((n) => n.startsWith(prefix) && n > after).sort();
      const page = names.slice(0, limit);
      const more = data.MaxResults !== undefined && names.length > limit;
      return { QueueUrls: page.map(queueUrl), ...(more ? { NextToken: Buffer.from(page.at(-1) as string).toString('base64url') } : {}) };
    },
    DeleteQueue(data) {
      const queue = byUrl(data.QueueUrl);
      queues.delete(queue.name);
      wakeWaiters();
      return {};
    },
    GetQueueAttributes(data) {
      const queue = byUrl(data.QueueUrl);
      const requested = (data.AttributeNames as string[] | undefined) ?? [];
      const unknown = requested.find((n) => n !== 'All' && !SETTABLE[n] && !READ_ONLY.includes(n));
      if (unknown) throw new SqsError(ERRORS.InvalidAttributeName, `Unknown Attribute ${unknown}.`);
      const { visible, inFlight, delayed } = census(queue);
      const all: Record<string, string | undefined> = {
        ...Object.fromEntries(Object.entries(SETTABLE).map(([n, spec]) => [n, queue.attributes[n] ?? spec.default])),
        QueueArn: queueArn(queue.name),
        ApproximateNumberOfMessages: String(visible),
        ApproximateNumberOfMessagesNotVisible: String(inFlight),
        ApproximateNumberOfMessagesDelayed: String(delayed),
        CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
      };
      const Attributes = Object.fromEntries(Object.entries(all).filter(([n, v]) => v !== undefined && wants(requested, n)));
      return Object.keys(Attributes).length > 0 ? { Attributes } : {};
    },
    SetQueueAttributes(data) {
      const queue = byUrl(data.QueueUrl);
      for (const [name, value] of Object.entries(checkedAttributes(data.Attributes))) {
        if (value === '' && !SETTABLE[name]?.range) delete queue.attributes[name];
        else queue.attributes[name] = value;
      }
      queue.lastModifiedAt = now();
      return {};
    },
    SendMessage(data) {
      const m = enqueue(byUrl(data.QueueUrl), data);
      return { MessageId: m.id, MD5OfMessageBody: m.md5OfBody, ...(m.md5OfAttributes ? { MD5OfMessageAttributes: m.md5OfAttributes } : {}) };
    },
    SendMessageBatch(data) {
      const queue = byUrl(data.QueueUrl);
      const entries = batchEntries<{ Id: string; MessageBody?: unknown; DelaySeconds?: unknown; MessageAttributes?: unknown }>(data.Entries);
      const total = entries.reduce((sum, e) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0), 0);
      if (total > MAX_MESSAGE_BYTES) throw new SqsError(ERRORS.BatchRequestTooLong, `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`);
      return perEntry(entries, (entry) => {
        const m = enqueue(queue, entry);
        return { MessageId: m.id, MD5OfMessageBody: m.md5OfBody, ...(m.md5OfAttributes ? { MD5OfMessageAttributes: m.md5OfAttributes } : {}) };
      });
    },
    ReceiveMessage: receive,
    DeleteMessage(data) {
      remove(byUrl(data.QueueUrl), data.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch(data) {
      const queue = byUrl(data.QueueUrl);
      return perEntry(batchEntries<{ Id: string; ReceiptHandle?: unknown }>(data.Entries), (entry) => {
        remove(queue, entry.ReceiptHandle);
        return {};
      });
    },
    ChangeMessageVisibility(data) {
      changeVisibility(byUrl(data.QueueUrl), data.ReceiptHandle, data.VisibilityTimeout);
      return {};
    },
    ChangeMessageVisibilityBatch(data) {
      const queue = byUrl(data.QueueUrl);
      return perEntry(batchEntries<{ Id: string; ReceiptHandle?: unknown; VisibilityTimeout?: unknown }>(data.Entries), (entry) => {
        changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout);
        return {};
      });
    },
    PurgeQueue(data) {
      byUrl(data.QueueUrl).messages = [];
      return {};
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
      const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      let text: string;
      try {
        text = (await readBody(req, MAX_REQUEST_BYTES)).toString('utf8');
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw invalidValue(error.message);
        throw error;
      }
      if (!run) throw new SqsError(ERRORS.UnsupportedOperation, `The local SQS endpoint does not serve ${target || 'requests without X-Amz-Target'}.`);
      let data: unknown;
      try {
        data = text ? JSON.parse(text) : {};
      } catch {
        throw new SqsError(ERRORS.SerializationException, 'The request body is not valid JSON.');
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SqsError(ERRORS.SerializationException, 'The request body must be a JSON object.');
      sendJson(res, 200, await run(data as Record<string, unknown>, aborted.signal), JSON_CONTENT_TYPE);
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      sendJson(res, error.kind.status, { __type: `com.amazonaws.sqs#${error.kind.type}`, message: error.message }, {
        ...JSON_CONTENT_TYPE,
        'x-amzn-query-error': `${error.kind.queryCode};Sender`,
        'x-amzn-requestid': randomUUID(),
      });
    }
  }

  const server = await listen(handle, options);
  base = server.url;
  return {
    endpoint: server.url,
    close: () => {
      closed = true;
      wakeWaiters();
      return server.close();
    },
    stats() {
      const byQueue: Record<string, QueueStats> = {};
      const total = { sent: 0, received: 0, deleted: 0 };
      for (const q of queues.values()) {
        const { visible, inFlight, delayed } = census(q);
        byQueue[q.name] = { ...q.counts, visible, inFlight: inFlight + delayed };
        total.sent += q.counts.sent;
        total.received += q.counts.received;
        total.deleted += q.counts.deleted;
      }
      return { ...total, byQueue };
    },
  };
}
