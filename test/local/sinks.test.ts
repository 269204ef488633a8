import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, InvalidParameterException, PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSinks, type LocalSinks } from '../../local/sinks';

const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const clock = Date.parse('2030-01-02T03:04:05.000Z');
const topicArn = 'arn:aws:sns:us-east-1:000000000000:push';
let sinks: LocalSinks;
let eventBridge: EventBridgeClient;
let sns: SNSClient;

beforeAll(async () => {
  sinks = await startLocalSinks({ now: () => clock });
  eventBridge = new EventBridgeClient({ ...clientConfig, endpoint: sinks.eventsEndpoint });
  sns = new SNSClient({ ...clientConfig, endpoint: sinks.snsEndpoint });
});

afterAll(async () => {
  eventBridge?.destroy();
  sns?.destroy();
  await sinks?.close();
});

const entry = (DetailType: string, detail: unknown) => ({ EventBusName: 'realtime', Source: 'realtime.layer', DetailType, Detail: JSON.stringify(detail) });

describe('the local EventBridge endpoint', () => {
  it('records PutEvents entries in the order they were sent', async () => {
    const before = sinks.events().length;
    const posted = [entry('message.posted', { seq: 1 }), entry('message.posted', { seq: 2 })];
    const deleted = [entry('message.deleted', { seq: 3 })];
    const first = await eventBridge.send(new PutEventsCommand({ Entries: posted }));
    const second = await eventBridge.send(new PutEventsCommand({ Entries: deleted }));
    expect(first.FailedEntryCount).toBe(0);
    expect(second.FailedEntryCount).toBe(0);

    const eventIds = [...(first.Entries ?? []), ...(second.Entries ?? [])].map((e) => e.EventId);
    expect(sinks.events().slice(before)).toEqual([...posted, ...deleted].map((sent, i) => ({ ...sent, EventId: eventIds[i], Time: '2030-01-02T03:04:05.000Z' })));
    expect(new Set(eventIds).size).toBe(3);
  });

  it('keeps the time an entry gives', async () => {
    const Time = new Date('2029-06-01T12:00:00.000Z');
    const { Entries = [] } = await eventBridge.send(new PutEventsCommand({ Entries: [{ ...entry('message.posted', { seq: 9 }), Time }] }));
    expect(sinks.events().at(-1)).toMatchObject({ EventId: Entries[0]?.EventId, Time: '2029-06-01T12:00:00.000Z' });
  });

  it('fails the entries EventBridge would refuse, records the others, and answers in request order', async () => {
    const before = sinks.events().length;
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry('message.posted', { seq: 4 }),
          { Source: 'realtime.layer', Detail: '{}' },
          { Source: 'realtime.layer', DetailType: 'message.posted', Detail: '[1, 2]' },
          { Source: 'realtime.layer', DetailType: 'message.posted', Detail: '{not json' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries).toEqual([
      { EventId: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('DetailType') },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(sinks.events().slice(before)).toEqual([expect.objectContaining({ EventId: result.Entries?.[0]?.EventId, Detail: '{"seq":4}' })]);
  });

  it('refuses more than 10 entries in one call and records none of them', async () => {
    const before = sinks.events().length;
    const putting = eventBridge.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, (_, seq) => entry('message.posted', { seq })) }));
    await expect(putting).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(sinks.events()).toHaveLength(before);
  });
});

describe('the local SNS endpoint', () => {
  it('records published pushes in the order they were sent', async () => {
    const before = sinks.pushes().length;
    const first = await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'New message', Message: JSON.stringify({ default: 'you have 1 new message' }) }));
    const second = await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'plain text & <markup>' }));
    expect(first.MessageId).toEqual(expect.any(String));
    expect(second.MessageId).not.toBe(first.MessageId);

    expect(sinks.pushes().slice(before)).toMatchObject([
      { MessageId: first.MessageId, TopicArn: topicArn, Subject: 'New message', Message: '{"default":"you have 1 new message"}', Time: '2030-01-02T03:04:05.000Z' },
      { MessageId: second.MessageId, TopicArn: topicArn, Message: 'plain text & <markup>', Time: '2030-01-02T03:04:05.000Z' },
    ]);
  });
});

describe('the local SNS endpoint: details', () => {
  it('creates a topic and answers its ARN', async () => {
    expect((await sns.send(new CreateTopicCommand({ Name: 'push' }))).TopicArn).toBe(topicArn);
  });

  it('records message attributes and the message structure with the push', async () => {
    const Message = JSON.stringify({ default: 'hello', GCM: JSON.stringify({ notification: { body: 'hello' } }) });
    const sent = await sns.send(
      new PublishCommand({
        TargetArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/device-1',
        Message,
        MessageStructure: 'json',
        MessageAttributes: { user_id: { DataType: 'String', StringValue: 'u-1' }, unread: { DataType: 'Number', StringValue: '3' } },
      }),
    );
    expect(sinks.pushes().at(-1)).toEqual({
      MessageId: sent.MessageId,
      TargetArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/device-1',
      MessageStructure: 'json',
      Message,
      MessageAttributes: { user_id: { DataType: 'String', StringValue: 'u-1' }, unread: { DataType: 'Number', StringValue: '3' } },
      Time: '2030-01-02T03:04:05.000Z',
    });
  });

  it('refuses a push SNS would refuse and records nothing', async () => {
    const before = sinks.pushes().length;
    await expect(sns.send(new PublishCommand({ TopicArn: topicArn, Message: '' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sns.send(new PublishCommand({ Message: 'to nobody' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sns.send(new PublishCommand({ TopicArn: topicArn, Message: '{"apns":"x"}', MessageStructure: 'json' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sns.send(new PublishCommand({ TopicArn: 'not-an-arn', Message: 'x' }))).rejects.toBeInstanceOf(InvalidParameterException);
    expect(sinks.pushes()).toHaveLength(before);
  });

  it('publishes a batch, each entry with its own message id', async () => {
    const before = sinks.pushes().length;
    const result = await sns.send(
      new PublishBatchCommand({
        TopicArn: topicArn,
        PublishBatchRequestEntries: [
          { Id: 'first', Message: 'one' },
          { Id: 'second', Message: 'two', Subject: 'Second' },
          { Id: 'empty', Message: '' },
        ],
      }),
    );
    expect((result.Successful ?? []).map((e) => e.Id)).toEqual(['first', 'second']);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: 'empty', Code: 'InvalidParameter', SenderFault: true })]);
    expect(sinks.pushes().slice(before)).toMatchObject([
      { MessageId: result.Successful?.[0]?.MessageId, TopicArn: topicArn, Message: 'one' },
      { MessageId: result.Successful?.[1]?.MessageId, TopicArn: topicArn, Message: 'two', Subject: 'Second' },
    ]);
  });
});
