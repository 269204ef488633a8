import { CreateQueueCommand, DeleteMessageCommand, QueueDoesNotExist, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../../local/sqs';

let server: LocalSqs;
let sqs: SQSClient;
let clock = Date.now();

beforeAll(async () => {
  server = await startLocalSqs({ now: () => clock });
  sqs = new SQSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  await server?.close();
});

const receive = (QueueUrl: string, extra: Record<string, unknown> = {}) =>
  sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], ...extra }));

describe('the local SQS endpoint', () => {
  it('sends, receives with a body checksum the SDK accepts, and deletes', async () => {
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const { Messages = [] } = await receive(QueueUrl);
    expect(Messages.map((m) => m.Body)).toEqual(['hello']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle }));
    expect(server.stats().byQueue.plain).toMatchObject({ sent: 1, received: 1, deleted: 1, visible: 0, inFlight: 0 });
  });

  it('hides a received message until its visibility timeout passes, then redelivers it', async () => {
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'visibility', Attributes: { VisibilityTimeout: '30' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    expect((await receive(QueueUrl)).Messages).toHaveLength(1);
    expect((await receive(QueueUrl)).Messages ?? []).toHaveLength(0);
    clock += 31_000;
    const { Messages = [] } = await receive(QueueUrl);
    expect(Messages[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    await sqs.send(new CreateQueueCommand({ QueueName: 'dead' }));
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'redriven',
        Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dead', maxReceiveCount: 2 }) },
      }),
    );
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: '1', MessageBody: 'poison' }] }));
    for (let i = 0; i < 2; i++) {
      expect((await receive(QueueUrl)).Messages).toHaveLength(1);
      clock += 2_000;
    }
    expect((await receive(QueueUrl)).Messages ?? []).toHaveLength(0);
    const dead = (await sqs.send(new CreateQueueCommand({ QueueName: 'dead' }))).QueueUrl as string;
    expect(((await receive(dead)).Messages ?? []).map((m) => m.Body)).toEqual(['poison']);
  });

  it('answers a long poll as soon as a message arrives', async () => {
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'long' }));
    const polling = receive(QueueUrl, { WaitTimeSeconds: 5 });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'arrived' }));
    expect(((await polling).Messages ?? []).map((m) => m.Body)).toEqual(['arrived']);
  });

  it('names an unknown queue QueueDoesNotExist', async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${server.endpoint}/000000000000/missing`, MessageBody: 'x' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });
});
