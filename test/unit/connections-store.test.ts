import 'aws-sdk-client-mock-vitest/extend';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setClock } from '../../shared/clock';
import {
  CONNECTION_TTL_SECONDS,
  PRESENCE_TTL_SECONDS,
  connectionsOfUser,
  putConnection,
  putSubscription,
  removeConnection,
  removeSubscription,
  subscribersOf,
  touchConnection,
  type SubscriptionRecord,
} from '../../shared/connections/store';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'test-connections';
const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const NOW_S = NOW / 1000;

let restoreClock: () => void;
beforeEach(() => {
  ddb.reset();
  restoreClock = setClock(() => NOW);
});
afterEach(() => {
  restoreClock();
  vi.useRealTimers();
});

type Key = { pk: string; sk: string };
const deletedKeys = (): Key[] =>
  ddb.commandCalls(BatchWriteCommand).flatMap((c) => (c.args[0].input.RequestItems?.[TABLE] ?? []).map((r) => r.DeleteRequest?.Key as Key));

const subscription: SubscriptionRecord = {
  stream: 'channel:01JBZ2Y6Q7S8T9V0W1X2Y3Z4A5',
  connection_id: 'conn-1',
  user_id: 'ana',
  mode: 'FULL',
  windows: [{ end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-13T00:00:00.000Z' }],
  decision_expires_at: NOW_S + 300,
};

describe('the connection store', () => {
  it('keeps a connection past API Gateway’s 2 h limit', () => {
    expect(CONNECTION_TTL_SECONDS).toBeGreaterThan(2 * 3600);
  });

  it('records a connection as conn#<id>/meta with the user and a TTL', async () => {
    ddb.on(PutCommand).resolves({});
    await putConnection('conn-1', 'ana');
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE,
      Item: {
        pk: 'conn#conn-1',
        sk: 'meta',
        connection_id: 'conn-1',
        user_id: 'ana',
        connected_at: '2026-03-01T10:00:00.000Z',
        expires_at: NOW_S + CONNECTION_TTL_SECONDS,
      },
    });
  });

  it('records a presence heartbeat outside the by_user index, expiring on its own', async () => {
    ddb.on(PutCommand).resolves({});
    await touchConnection('conn-1', 'ana');
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE,
      Item: {
        pk: 'presence#ana',
        sk: 'presence',
        last_seen_at: '2026-03-01T10:00:00.000Z',
        last_connection_id: 'conn-1',
        expires_at: NOW_S + PRESENCE_TTL_SECONDS,
      },
    });
  });

  it('stores both sides of a subscription in one transaction, neither of them in the by_user index', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await putSubscription(subscription);
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: {
            TableName: TABLE,
            Item: {
              pk: `sub#${subscription.stream}`,
              sk: 'conn-1',
              user_id: 'ana',
              mode: 'FULL',
              windows: subscription.windows,
              decision_expires_at: NOW_S + 300,
              expires_at: NOW_S + CONNECTION_TTL_SECONDS,
            },
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: 'conn#conn-1', sk: `sub#${subscription.stream}`, stream: subscription.stream, expires_at: NOW_S + CONNECTION_TTL_SECONDS },
          },
        },
      ],
    });
    // The by_user GSI keys on user_id + connection_id: an item with both would be listed as a connection.
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.map((t) => t.Put?.Item ?? {}) ?? [];
    for (const item of items) expect('user_id' in item && 'connection_id' in item).toBe(false);
  });

  it('keeps the subscriber’s groups on the subscription, and reads them back', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await putSubscription({ ...subscription, groups: ['platform_admin'] });
    const stored = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Put?.Item;
    expect(stored?.groups).toEqual(['platform_admin']);
    ddb.on(QueryCommand).resolves({ Items: [{ ...stored }] });
    const pages: SubscriptionRecord[][] = [];
    for await (const page of subscribersOf(subscription.stream)) pages.push(page);
    expect(pages[0]?.[0]?.groups).toEqual(['platform_admin']);
  });

  it('removes both sides of one subscription', async () => {
    ddb.on(DeleteCommand).resolves({});
    await removeSubscription('channel:X', 'conn-1');
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { TableName: TABLE, Key: { pk: 'sub#channel:X', sk: 'conn-1' } });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { TableName: TABLE, Key: { pk: 'conn#conn-1', sk: 'sub#channel:X' } });
  });
});

describe('removing a connection', () => {
  it('deletes its meta item, its subscription index items and the matching stream subscriber items across query pages', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ pk: 'conn#conn-1', sk: 'meta' }, { pk: 'conn#conn-1', sk: 'sub#channel:A', stream: 'channel:A' }], LastEvaluatedKey: { pk: 'conn#conn-1', sk: 'sub#channel:A' } })
      .resolvesOnce({ Items: [{ pk: 'conn#conn-1', sk: 'sub#topic:B', stream: 'topic:B' }] });
    ddb.on(BatchWriteCommand).resolves({});
    await removeConnection('conn-1');
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'conn#conn-1' } });
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, { ExclusiveStartKey: { pk: 'conn#conn-1', sk: 'sub#channel:A' } });
    expect(deletedKeys()).toEqual([
      { pk: 'conn#conn-1', sk: 'meta' },
      { pk: 'conn#conn-1', sk: 'sub#channel:A' },
      { pk: 'sub#channel:A', sk: 'conn-1' },
      { pk: 'conn#conn-1', sk: 'sub#topic:B' },
      { pk: 'sub#topic:B', sk: 'conn-1' },
    ]);
  });

  it('still deletes the meta item when only subscriptions are left', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'conn#conn-1', sk: 'sub#channel:A', stream: 'channel:A' }] });
    ddb.on(BatchWriteCommand).resolves({});
    await removeConnection('conn-1');
    expect(deletedKeys()).toContainEqual({ pk: 'conn#conn-1', sk: 'meta' });
  });

  it('deletes in batches of at most 25 and retries what DynamoDB left unprocessed', async () => {
    const streams = Array.from({ length: 15 }, (_, i) => `channel:${i}`);
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'conn#c', sk: 'meta' }, ...streams.map((stream) => ({ pk: 'conn#c', sk: `sub#${stream}`, stream }))] });
    const leftOver = { DeleteRequest: { Key: { pk: 'sub#channel:0', sk: 'c' } } };
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [leftOver] } })
      .resolves({});
    await removeConnection('c');
    const batches = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.[TABLE] ?? []);
    expect(batches.map((b) => b.length)).toEqual([25, 1, 6]);
    expect(batches[1]).toEqual([leftOver]);
    expect(new Set(deletedKeys().map((k) => `${k.pk}|${k.sk}`)).size).toBe(31);
  });

  it('gives up with an error when DynamoDB keeps leaving items unprocessed', async () => {
    vi.useFakeTimers();
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'conn#c', sk: 'meta' }] });
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: { [TABLE]: [{ DeleteRequest: { Key: { pk: 'conn#c', sk: 'meta' } } }] } });
    const removal = expect(removeConnection('c')).rejects.toThrow(/left undeleted/);
    await vi.runAllTimersAsync();
    await removal;
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 7);
  });
});

describe('reading subscribers and connections', () => {
  it('pages a stream’s subscribers, naming each connection by its sort key', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ pk: 'sub#channel:A', sk: 'conn-1', user_id: 'ana', mode: 'FULL', decision_expires_at: 10, expires_at: 99 }],
        LastEvaluatedKey: { pk: 'sub#channel:A', sk: 'conn-1' },
      })
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'sub#channel:A', sk: 'conn-1' } })
      .resolvesOnce({
        Items: [{ pk: 'sub#channel:A', sk: 'conn-2', user_id: 'bo', mode: 'ARCHIVE_UNTIL', windows: [{ end: '2026-01-31T00:00:00.000Z' }], decision_expires_at: 20 }],
      });
    const pages: SubscriptionRecord[][] = [];
    for await (const page of subscribersOf('channel:A')) pages.push(page);
    expect(pages).toEqual([
      [{ stream: 'channel:A', connection_id: 'conn-1', user_id: 'ana', mode: 'FULL', decision_expires_at: 10 }],
      [{ stream: 'channel:A', connection_id: 'conn-2', user_id: 'bo', mode: 'ARCHIVE_UNTIL', windows: [{ end: '2026-01-31T00:00:00.000Z' }], decision_expires_at: 20 }],
    ]);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 3);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'sub#channel:A' } });
  });

  it('lists a user’s connections from the by_user index, every page', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ user_id: 'ana', connection_id: 'c1', pk: 'conn#c1', sk: 'meta' }], LastEvaluatedKey: { x: 1 } })
      .resolvesOnce({ Items: [{ user_id: 'ana', connection_id: 'c2', pk: 'conn#c2', sk: 'meta' }] });
    await expect(connectionsOfUser('ana')).resolves.toEqual(['c1', 'c2']);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE,
      IndexName: 'by_user',
      KeyConditionExpression: 'user_id = :u',
      ExpressionAttributeValues: { ':u': 'ana' },
    });
  });
});
