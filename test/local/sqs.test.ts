import { createHash } from 'node:crypto';
import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  InvalidAttributeValue,
  ListQueuesCommand,
  MessageNotInflight,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../../local/sqs';

let server: LocalSqs;
let sqs: SQSClient;
let clock = Date.now();
/** Called on every clock read: a long poll reads the clock as it starts waiting. */
let onClockRead: (() => void) | undefined;

beforeAll(async () => {
  server = await startLocalSqs({
    now: () => {
      onClockRead?.();
      return clock;
    },
  });
  sqs = new SQSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sqs?.destroy();
  await server?.close();
});

const createQueue = async (QueueName: string, Attributes?: Record<string, string>) => (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl as string;

const receive = async (QueueUrl: string, extra: { WaitTimeSeconds?: number; MaxNumberOfMessages?: number } = {}) =>
  (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], ...extra }))).Messages ?? [];

const counts = async (QueueUrl: string) => {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return { visible: Attributes.ApproximateNumberOfMessages, inFlight: Attributes.ApproximateNumberOfMessagesNotVisible };
};

/** Resolves once the server has read the clock: the long poll has looked and is now waiting. */
const nextClockRead = () =>
  new Promise<void>((resolve) => {
    onClockRead = () => {
      onClockRead = undefined;
      resolve();
    };
  });

describe('the local SQS endpoint', () => {
  it('creates a queue idempotently and answers with its URL on the endpoint', async () => {
    const first = await createQueue('created');
    expect(first).toBe(`${server.endpoint}/000000000000/created`);
    expect(await createQueue('created')).toBe(first);
  });

  it('sends, receives and deletes a message', async () => {
    const QueueUrl = await createQueue('round-trip');
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":"world"}' }));
    const [message, ...rest] = await receive(QueueUrl);
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"hello":"world"}' });
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));
    clock += 60_000;
    expect(await receive(QueueUrl)).toEqual([]);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });

  it('answers with MD5 digests of the UTF-8 body that the SDK verifies on send and receive', async () => {
    const QueueUrl = await createQueue('checksums');
    const body = 'grüße – 你好 – 🚀';
    const expected = createHash('md5').update(body, 'utf8').digest('hex');
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    expect(sent.MD5OfMessageBody).toBe(expected);
    const [message] = await receive(QueueUrl);
    expect(message).toMatchObject({ Body: body, MD5OfBody: expected });
  });

  it('hides a received, undeleted message until the visibility timeout passes, then redelivers it', async () => {
    const QueueUrl = await createQueue('visibility', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    const [first] = await receive(QueueUrl);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe('1');

    clock += 29_000;
    expect(await receive(QueueUrl)).toEqual([]);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '1' });

    clock += 2_000;
    const [again, ...rest] = await receive(QueueUrl);
    expect(rest).toEqual([]);
    expect(again).toMatchObject({ MessageId: first?.MessageId, Body: 'again' });
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(again?.ReceiptHandle).not.toBe(first?.ReceiptHandle);
  });

  it('moves a message to the dead-letter queue once it has been received maxReceiveCount times', async () => {
    const deadUrl = await createQueue('poison-dlq');
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ['QueueArn'] }));
    const QueueUrl = await createQueue('poison', {
      VisibilityTimeout: '10',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes.QueueArn, maxReceiveCount: 2 }),
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));

    for (const receiveCount of ['1', '2']) {
      const [message] = await receive(QueueUrl);
      expect(message?.Attributes?.ApproximateReceiveCount).toBe(receiveCount);
      clock += 11_000;
    }
    expect(await receive(QueueUrl)).toEqual([]);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });

    const [dead, ...rest] = await receive(deadUrl);
    expect(rest).toEqual([]);
    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: 'poison' });
  });

  it('sends and deletes messages in batches', async () => {
    const QueueUrl = await createQueue('batches');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'first' },
          { Id: 'b', MessageBody: 'second' },
          { Id: 'c', MessageBody: 'third' },
        ],
      }),
    );
    expect((sent.Successful ?? []).map((entry) => entry.Id)).toEqual(['a', 'b', 'c']);
    expect(sent.Failed ?? []).toEqual([]);

    const messages = await receive(QueueUrl);
    expect(messages.map((m) => m.Body).sort()).toEqual(['first', 'second', 'third']);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '3' });

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl, Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }),
    );
    expect((deleted.Successful ?? []).map((entry) => entry.Id)).toEqual(['d0', 'd1', 'd2']);
    expect(deleted.Failed ?? []).toEqual([]);
    clock += 60_000;
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });

  it('answers a waiting long poll with a message sent while it waits', async () => {
    const QueueUrl = await createQueue('long-poll');
    const waiting = nextClockRead();
    const polling = receive(QueueUrl, { WaitTimeSeconds: 2 });
    await waiting;
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'arrived' }));
    expect((await polling).map((m) => m.Body)).toEqual(['arrived']);
  });

  it('answers a waiting long poll with a message whose visibility timeout expires while it waits', async () => {
    const QueueUrl = await createQueue('long-poll-redelivery', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'retry' }));
    expect(await receive(QueueUrl)).toHaveLength(1);
    const waiting = nextClockRead();
    const polling = receive(QueueUrl, { WaitTimeSeconds: 2 });
    await waiting;
    clock += 31_000;
    const [message] = await polling;
    expect(message?.Body).toBe('retry');
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('counts visible and in-flight messages in GetQueueAttributes', async () => {
    const QueueUrl = await createQueue('counted', { VisibilityTimeout: '30' });
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['1', '2', '3'].map((Id) => ({ Id, MessageBody: `m${Id}` })) }));
    expect(await counts(QueueUrl)).toEqual({ visible: '3', inFlight: '0' });
    await receive(QueueUrl, { MaxNumberOfMessages: 2 });
    expect(await counts(QueueUrl)).toEqual({ visible: '1', inFlight: '2' });
    clock += 31_000;
    expect(await counts(QueueUrl)).toEqual({ visible: '3', inFlight: '0' });
  });

  it('rejects an unknown queue URL with QueueDoesNotExist', async () => {
    const QueueUrl = `${server.endpoint}/000000000000/missing`;
    const sending = sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    await expect(sending).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(sending).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });
});

describe('the local SQS endpoint: queues', () => {
  it('refuses to create an existing queue again with different attributes', async () => {
    await createQueue('settled', { VisibilityTimeout: '30' });
    expect(await createQueue('settled', { VisibilityTimeout: '30' })).toBe(`${server.endpoint}/000000000000/settled`);
    await expect(createQueue('settled', { VisibilityTimeout: '60' })).rejects.toBeInstanceOf(QueueNameExists);
  });

  it('validates queue attributes and the redrive target', async () => {
    await expect(createQueue('bad-timeout', { VisibilityTimeout: '43201' })).rejects.toBeInstanceOf(InvalidAttributeValue);
    await expect(createQueue('bad-name', { Colour: 'blue' })).rejects.toBeInstanceOf(InvalidAttributeName);
    const redrive = JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:nowhere', maxReceiveCount: 3 });
    await expect(createQueue('bad-redrive', { RedrivePolicy: redrive })).rejects.toBeInstanceOf(InvalidAttributeValue);
  });

  it('answers only the attributes asked for, with the queue ARN and its settings', async () => {
    const QueueUrl = await createQueue('described', { VisibilityTimeout: '45', MessageRetentionPeriod: '600' });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout', 'MessageRetentionPeriod'] }));
    expect(Attributes).toEqual({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:described', VisibilityTimeout: '45', MessageRetentionPeriod: '600' });
    await expect(sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Colour' as 'All'] }))).rejects.toBeInstanceOf(InvalidAttributeName);
  });

  it('applies a visibility timeout set later with SetQueueAttributes', async () => {
    const QueueUrl = await createQueue('reconfigured', { VisibilityTimeout: '30' });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '5' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'soon back' }));
    expect(await receive(QueueUrl)).toHaveLength(1);
    clock += 6_000;
    expect((await receive(QueueUrl)).map((m) => m.Body)).toEqual(['soon back']);
  });

  it('finds queues by name and by prefix, and forgets deleted ones', async () => {
    const QueueUrl = await createQueue('listed-one');
    await createQueue('listed-two');
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'listed-one' }))).QueueUrl).toBe(QueueUrl);
    expect((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'listed-' }))).QueueUrls).toEqual([QueueUrl, `${server.endpoint}/000000000000/listed-two`]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'listed-one' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  it('empties a queue on PurgeQueue', async () => {
    const QueueUrl = await createQueue('purged');
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['1', '2'].map((Id) => ({ Id, MessageBody: Id })) }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });

  it('reports per-queue and total counts in stats()', async () => {
    const QueueUrl = await createQueue('stats');
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['1', '2', '3'].map((Id) => ({ Id, MessageBody: Id })) }));
    const [first] = await receive(QueueUrl, { MaxNumberOfMessages: 2 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first?.ReceiptHandle }));
    expect(server.stats().byQueue.stats).toEqual({ sent: 3, received: 2, deleted: 1, visible: 1, inFlight: 1 });
    const totals = server.stats();
    expect(totals.sent).toBe(Object.values(totals.byQueue).reduce((sum, q) => sum + q.sent, 0));
  });
});

describe('the local SQS endpoint: messages', () => {
  it('answers only the system attributes asked for, timed by the injected clock', async () => {
    const QueueUrl = await createQueue('system-attributes');
    const sentAt = clock;
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'timed' }));
    clock += 1_000;
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateFirstReceiveTimestamp'] }));
    expect(Messages[0]?.Attributes).toEqual({ SentTimestamp: String(sentAt), ApproximateFirstReceiveTimestamp: String(sentAt + 1_000) });
    const bare = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'bare' }));
    const { Messages: plain = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    expect(plain[0]).toMatchObject({ MessageId: bare.MessageId });
    expect(plain[0]?.Attributes).toBeUndefined();
  });

  it('keeps message attributes and answers their MD5 as SQS computes it', async () => {
    const QueueUrl = await createQueue('message-attributes');
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'with attributes',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'post' }, size: { DataType: 'Number', StringValue: '42' } },
      }),
    );
    // Digest of the length-prefixed name, type, transport byte and value of each attribute, by name.
    expect(sent.MD5OfMessageAttributes).toBe('dc621174f1563e2becd25679ae09b161');
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['kind'] }));
    expect(Messages[0]).toMatchObject({ MessageAttributes: { kind: { DataType: 'String', StringValue: 'post' } }, MD5OfMessageAttributes: 'a3dabaed660c10c5e68a45b9debc584b' });
  });

  it('holds a delayed message back until its delay passes', async () => {
    const QueueUrl = await createQueue('delayed');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 10 }));
    expect(await receive(QueueUrl)).toEqual([]);
    expect(server.stats().byQueue.delayed).toMatchObject({ visible: 0, inFlight: 1 });
    clock += 10_000;
    expect((await receive(QueueUrl)).map((m) => m.Body)).toEqual(['later']);
  });

  it('drops messages older than the retention period', async () => {
    const QueueUrl = await createQueue('short-lived', { MessageRetentionPeriod: '60' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'stale' }));
    clock += 60_000;
    expect(await receive(QueueUrl)).toEqual([]);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });

  it('extends, ends and refuses visibility changes by receipt handle', async () => {
    const QueueUrl = await createQueue('visibility-changes', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'busy' }));
    const [message] = await receive(QueueUrl);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 120 }));
    clock += 60_000;
    expect(await receive(QueueUrl)).toEqual([]);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 0 }));
    const [again] = await receive(QueueUrl);
    expect(again?.MessageId).toBe(message?.MessageId);
    clock += 31_000;
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: again?.ReceiptHandle, VisibilityTimeout: 10 }))).rejects.toBeInstanceOf(MessageNotInflight);
    await expect(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'not-a-handle' }))).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('changes visibility in batches, failing only the entries that cannot change', async () => {
    const QueueUrl = await createQueue('visibility-batch', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['1', '2'].map((Id) => ({ Id, MessageBody: Id })) }));
    const messages = await receive(QueueUrl);
    const changed = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [...messages.map((m, i) => ({ Id: `ok${i}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })), { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 }],
      }),
    );
    expect((changed.Successful ?? []).map((e) => e.Id)).toEqual(['ok0', 'ok1']);
    expect(changed.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    expect(await receive(QueueUrl)).toHaveLength(2);
  });

  it('refuses a receive of more than 10 messages', async () => {
    const QueueUrl = await createQueue('too-many');
    await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('answers an empty long poll when nothing arrives in time', async () => {
    const QueueUrl = await createQueue('quiet');
    expect(await receive(QueueUrl, { WaitTimeSeconds: 1 })).toEqual([]);
  });
});

describe('the local SQS endpoint: batch limits', () => {
  it('refuses empty, oversized and ambiguous batches', async () => {
    const QueueUrl = await createQueue('batch-limits');
    const send = (Entries: { Id: string; MessageBody: string }[]) => sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
    await expect(send([])).rejects.toBeInstanceOf(EmptyBatchRequest);
    await expect(send(Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })))).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(send([{ Id: 'same', MessageBody: 'a' }, { Id: 'same', MessageBody: 'b' }])).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
    const half = 'x'.repeat(140 * 1024);
    await expect(send([{ Id: 'a', MessageBody: half }, { Id: 'b', MessageBody: half }])).rejects.toBeInstanceOf(BatchRequestTooLong);
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });

  it('fails only the entries SQS would refuse and queues the rest', async () => {
    const QueueUrl = await createQueue('batch-partial');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'good', MessageBody: 'fine' },
          { Id: 'control', MessageBody: 'bell \u0007' },
        ],
      }),
    );
    expect((sent.Successful ?? []).map((e) => e.Id)).toEqual(['good']);
    expect(sent.Failed).toEqual([expect.objectContaining({ Id: 'control', Code: 'InvalidMessageContents', SenderFault: true })]);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(256 * 1024 + 1) }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect((await receive(QueueUrl)).map((m) => m.Body)).toEqual(['fine']);
  });

  it('deletes in batches, failing only malformed receipt handles', async () => {
    const QueueUrl = await createQueue('delete-partial');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'done' }));
    const [message] = await receive(QueueUrl);
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'real', ReceiptHandle: message?.ReceiptHandle },
          { Id: 'fake', ReceiptHandle: 'garbage' },
        ],
      }),
    );
    expect((deleted.Successful ?? []).map((e) => e.Id)).toEqual(['real']);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'fake', Code: 'ReceiptHandleIsInvalid' })]);
    clock += 60_000;
    expect(await counts(QueueUrl)).toEqual({ visible: '0', inFlight: '0' });
  });
});
