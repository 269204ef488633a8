import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, type TableId } from '../../shared/spec/tables';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';

const names = Object.fromEntries(TABLES.map((t) => [t.id, `disk-${t.id}`])) as Record<TableId, string>;
const config = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
let clock = Date.UTC(2026, 0, 1);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-dynamodb-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `use` against an endpoint on the store in `dir`, closing it afterwards. */
async function withStore<T>(use: (ddb: LocalDynamoDb, client: DynamoDBClient) => Promise<T>): Promise<T> {
  const ddb = await startLocalDynamoDb({ path: dir, now: () => clock, ttlSweepIntervalMs: 0 });
  const client = new DynamoDBClient({ ...config, endpoint: ddb.endpoint });
  try {
    return await use(ddb, client);
  } finally {
    client.destroy();
    await ddb.close();
  }
}

async function entriesStream(ddb: LocalDynamoDb, client: DynamoDBClient): Promise<{ arn: string; records: StreamRecord[] }> {
  const streams = new DynamoDBStreamsClient({ ...config, endpoint: ddb.endpoint });
  const arn = (await client.send(new DescribeTableCommand({ TableName: names.entries }))).Table?.LatestStreamArn as string;
  const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards?.[0]?.ShardId;
  const iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  const records = (await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))).Records ?? [];
  streams.destroy();
  return { arn, records };
}

describe('an on-disk store', () => {
  it('keeps items, stream settings, TTL settings and stream records across close and restart', async () => {
    const before = await withStore(async (ddb, client) => {
      await createTables(client, names);
      const doc = DynamoDBDocumentClient.from(client);
      await doc.send(new PutCommand({ TableName: names.catalog, Item: { pk: 'p', sk: 's', n: 1 } }));
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: names.entries, Item: { stream: 'disk', seq: 1, change_seq: 1, created_at: 'a' } } },
            { Put: { TableName: names.entries, Item: { stream: 'disk', seq: 2, change_seq: 2, created_at: 'b' } } },
          ],
        }),
      );
      // Many writes in flight right up to close: each answered write must survive it.
      await Promise.all(Array.from({ length: 50 }, (_, i) => doc.send(new PutCommand({ TableName: names.catalog, Item: { pk: 'burst', sk: String(i).padStart(2, '0') } }))));
      return { ...(await entriesStream(ddb, client)), latest: ddb.latestSequence(names.entries) };
    });
    expect(before.records).toHaveLength(2);

    await withStore(async (ddb, client) => {
      await createTables(client, names);
      const doc = DynamoDBDocumentClient.from(client);
      expect((await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'p', sk: 's' } }))).Item).toEqual({ pk: 'p', sk: 's', n: 1 });
      const burst = await doc.send(new QueryCommand({ TableName: names.catalog, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'burst' } }));
      expect(burst.Count).toBe(50);
      // The local index survived too: strongly consistent reads by change_seq.
      const byChange = await doc.send(
        new QueryCommand({ TableName: names.entries, IndexName: 'by_change_seq', KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'disk' } }),
      );
      expect(byChange.Items?.map((i) => i.seq)).toEqual([1, 2]);
      expect((await client.send(new DescribeTimeToLiveCommand({ TableName: names.connections }))).TimeToLiveDescription).toEqual({
        TimeToLiveStatus: 'ENABLED',
        AttributeName: 'expires_at',
      });

      const after = await entriesStream(ddb, client);
      expect(after.arn).toBe(before.arn);
      expect(after.records).toEqual(before.records);
      expect(ddb.latestSequence(names.entries)).toBe(before.latest);

      // New records continue the sequence.
      await doc.send(new PutCommand({ TableName: names.entries, Item: { stream: 'disk', seq: 3 } }));
      expect(ddb.latestSequence(names.entries)).toBeGreaterThan(before.latest);
    });
  });

  it('still sweeps TTL items written before a restart', async () => {
    await withStore(async (_ddb, client) => {
      await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: names.connections, Item: { pk: 'conn', sk: 'meta', expires_at: Math.floor(clock / 1000) + 60 } }));
    });
    clock += 61_000;
    await withStore(async (ddb, client) => {
      expect(await ddb.sweepTtl()).toBe(1);
      expect((await DynamoDBDocumentClient.from(client).send(new GetCommand({ TableName: names.connections, Key: { pk: 'conn', sk: 'meta' } }))).Item).toBeUndefined();
    });
  });
});
