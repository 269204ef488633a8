import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
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
