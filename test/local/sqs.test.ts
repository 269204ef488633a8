import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
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
