import { DynamoDBClient, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';

const require = createRequire(import.meta.url);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const names = { catalog: 't-catalog', entries: 't-entries', connections: 't-connections', idempotency: 't-idempotency', entitlements: 't-entitlements' };

let front: LocalDynamoDb;
let plain: Server;
let plainEndpoint: string;
let doc: DynamoDBDocumentClient;
let clock = Date.now();

const clientFor = (endpoint: string) => new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

beforeAll(async () => {
  front = await startLocalDynamoDb({ now: () => clock, ttlSweepIntervalMs: 0 });
  plain = (require('dynalite') as (o: object) => Server)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainEndpoint = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  await createTables(clientFor(front.endpoint), names);
  await createTables(clientFor(plainEndpoint), names, { timeToLive: false });
  doc = DynamoDBDocumentClient.from(clientFor(front.endpoint));
});

afterAll(async () => {
  await front?.close();
  await new Promise((r) => plain?.close(r));
});

/** Raw JSON-protocol call, so responses compare byte for byte apart from request ids. */
async function raw(endpoint: string, operation: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20260101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function streamRecords(): Promise<_Record[]> {
  const streams = new DynamoDBStreamsClient({ endpoint: front.endpoint, region: 'us-east-1', credentials });
  const arn = (await clientFor(front.endpoint).send(new DescribeTableCommand({ TableName: names.entries }))).Table?.LatestStreamArn;
  const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards?.[0]?.ShardId;
  let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  const out: _Record[] = [];
  for (;;) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 3 }));
    out.push(...(page.Records ?? []));
    if (!page.Records?.length) return out;
    iterator = page.NextShardIterator;
  }
}

describe('single-item calls through the front', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['a put', 'PutItem', { TableName: names.catalog, Item: { pk: { S: 'd1' }, sk: { S: 'a' }, n: { N: '1' } } }],
    ['a conditional put that fails', 'PutItem', { TableName: names.catalog, Item: { pk: { S: 'd1' }, sk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)' }],
    ['an update with an expression', 'UpdateItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': { N: '1' } }, ReturnValues: 'ALL_NEW' }],
    ['an update with a bad expression', 'UpdateItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, UpdateExpression: 'SET n = = 1' }],
    ['an unused expression value', 'UpdateItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, UpdateExpression: 'SET n = :a', ExpressionAttributeValues: { ':a': { N: '1' }, ':b': { N: '2' } } }],
    ['a get', 'GetItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, ConsistentRead: true }],
    ['a get missing its sort key', 'GetItem', { TableName: names.catalog, Key: { pk: { S: 'd1' } } }],
    ['a key of the wrong type', 'GetItem', { TableName: names.entries, Key: { stream: { S: 's' }, seq: { S: 'one' } } }],
    ['a query', 'Query', { TableName: names.catalog, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'd1' } } }],
    ['a query on an unknown index', 'Query', { TableName: names.catalog, IndexName: 'nope', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'd1' } } }],
    ['a delete with a failing condition', 'DeleteItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, ConditionExpression: 'n = :x', ExpressionAttributeValues: { ':x': { N: '99' } } }],
    ['a delete', 'DeleteItem', { TableName: names.catalog, Key: { pk: { S: 'd1' }, sk: { S: 'a' } }, ReturnValues: 'ALL_OLD' }],
    ['an unknown table', 'GetItem', { TableName: 'missing-table', Key: { pk: { S: 'x' } } }],
  ];

  it.each(cases)('answers %s exactly as dynalite alone does', async (_name, operation, body) => {
    const [viaFront, direct] = await Promise.all([raw(front.endpoint, operation, body), raw(plainEndpoint, operation, body)]);
    expect(viaFront).toEqual(direct);
  });
});

describe('TransactWriteItems', () => {
  it('keeps a counter dense under 20 concurrent writers', async () => {
    await doc.send(new PutCommand({ TableName: names.catalog, Item: { pk: 'counter', sk: 'head', n: 0 } }));
    const taken: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        for (let done = 0; done < 5; ) {
          const { Item } = await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'counter', sk: 'head' }, ConsistentRead: true }));
          const n = (Item?.n as number) + 1;
          try {
            await doc.send(
              new TransactWriteCommand({
                TransactItems: [
                  { Update: { TableName: names.catalog, Key: { pk: 'counter', sk: 'head' }, UpdateExpression: 'SET n = :n', ConditionExpression: 'n = :o', ExpressionAttributeValues: { ':n': n, ':o': n - 1 } } },
                  { Put: { TableName: names.catalog, Item: { pk: 'counter', sk: `seq#${String(n).padStart(4, '0')}`, writer: w }, ConditionExpression: 'attribute_not_exists(pk)' } },
                ],
              }),
            );
            taken.push(n);
            done++;
          } catch (error) {
            expect((error as Error).name).toBe('TransactionCanceledException');
          }
        }
      }),
    );
    expect(taken.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('cancels everything with one reason per action, the old item when asked', async () => {
    await doc.send(new PutCommand({ TableName: names.catalog, Item: { pk: 'tx', sk: 'a', v: 1 } }));
    const error = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: names.catalog, Item: { pk: 'tx', sk: 'b', v: 1 } } },
            { Update: { TableName: names.catalog, Key: { pk: 'tx', sk: 'a' }, UpdateExpression: 'SET v = :v', ConditionExpression: 'v = :old', ExpressionAttributeValues: { ':v': 2, ':old': 7 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
          ],
        }),
      )
      .catch((e: unknown) => e as Error & { CancellationReasons?: unknown[] });
    expect(error).toMatchObject({ name: 'TransactionCanceledException' });
    expect((error as { CancellationReasons?: unknown[] }).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'tx' }, sk: { S: 'a' }, v: { N: '1' } } },
    ]);
    expect((await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'tx', sk: 'b' } }))).Item).toBeUndefined();
  });

  it('fails a condition check alone and applies nothing', async () => {
    const error = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: names.catalog, Item: { pk: 'tx2', sk: 'a' } } },
            { ConditionCheck: { TableName: names.catalog, Key: { pk: 'tx2', sk: 'missing' }, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((error as { CancellationReasons?: { Code: string }[] }).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect((await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'tx2', sk: 'a' } }))).Item).toBeUndefined();
  });

  it('rejects two actions on one item and more than 100 actions', async () => {
    const twice = doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: names.catalog, Item: { pk: 'dup', sk: 'a' } } },
          { Delete: { TableName: names.catalog, Key: { pk: 'dup', sk: 'a' } } },
        ],
      }),
    );
    await expect(twice).rejects.toMatchObject({ name: 'ValidationException' });
    const many = doc.send(new TransactWriteCommand({ TransactItems: Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: names.catalog, Item: { pk: 'many', sk: String(i) } } })) }));
    await expect(many).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('DynamoDB Streams', () => {
  it('records every committed change in commit order with its new image, and nothing for a cancelled transaction', async () => {
    await doc.send(new PutCommand({ TableName: names.entries, Item: { stream: 'st', seq: 1, change_seq: 1, created_at: 'a' } }));
    await doc.send(new UpdateCommand({ TableName: names.entries, Key: { stream: 'st', seq: 1 }, UpdateExpression: 'SET change_seq = :c', ExpressionAttributeValues: { ':c': 2 } }));
    await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: names.entries, Item: { stream: 'st', seq: 2, change_seq: 3, created_at: 'b' } } },
            { ConditionCheck: { TableName: names.catalog, Key: { pk: 'never', sk: 'x' }, ConditionExpression: 'attribute_exists(pk)' } },
          ],
        }),
      )
      .catch(() => undefined);
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: names.entries, Item: { stream: 'st', seq: 2, change_seq: 3, created_at: 'b' } } },
          { Put: { TableName: names.entries, Item: { stream: 'st', seq: 3, change_seq: 4, created_at: 'c' } } },
        ],
      }),
    );
    await doc.send(new DeleteCommand({ TableName: names.entries, Key: { stream: 'st', seq: 1 } }));
    const records = await streamRecords();
    expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.seq?.N])).toEqual([
      ['INSERT', '1'],
      ['MODIFY', '1'],
      ['INSERT', '2'],
      ['INSERT', '3'],
      ['REMOVE', '1'],
    ]);
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequence].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequence);
    expect(records[1]?.dynamodb?.NewImage?.change_seq).toEqual({ N: '2' });
    expect(records[1]?.dynamodb?.StreamViewType).toBe('NEW_IMAGE');
    expect(records[1]?.dynamodb?.OldImage).toBeUndefined();
  });

  it('writes no record when a write changes nothing', async () => {
    const before = (await streamRecords()).length;
    await doc.send(new PutCommand({ TableName: names.entries, Item: { stream: 'st', seq: 3, change_seq: 4, created_at: 'c' } }));
    expect((await streamRecords()).length).toBe(before);
  });
});

describe('TTL', () => {
  it('sweeps expired items with REMOVE records marked as the service', async () => {
    const client = clientFor(front.endpoint);
    const { DescribeTimeToLiveCommand } = await import('@aws-sdk/client-dynamodb');
    expect((await client.send(new DescribeTimeToLiveCommand({ TableName: names.connections }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
    const nowSeconds = Math.floor(clock / 1000);
    await doc.send(new PutCommand({ TableName: names.connections, Item: { pk: 'old', sk: 'meta', expires_at: nowSeconds + 10 } }));
    await doc.send(new PutCommand({ TableName: names.connections, Item: { pk: 'new', sk: 'meta', expires_at: nowSeconds + 1000 } }));
    expect(await front.sweepTtl()).toBe(0);
    clock += 11_000;
    expect(await front.sweepTtl()).toBe(1);
    expect((await doc.send(new GetCommand({ TableName: names.connections, Key: { pk: 'old', sk: 'meta' } }))).Item).toBeUndefined();
    expect((await doc.send(new GetCommand({ TableName: names.connections, Key: { pk: 'new', sk: 'meta' } }))).Item).toBeDefined();
  });

  it('marks TTL deletes on a stream table as the service', async () => {
    await createTables(clientFor(front.endpoint), names);
    const ttlFront = await startLocalDynamoDb({ now: () => clock, ttlSweepIntervalMs: 0 });
    try {
      const client = clientFor(ttlFront.endpoint);
      await createTables(client, names);
      const { UpdateTimeToLiveCommand } = await import('@aws-sdk/client-dynamodb');
      await client.send(new UpdateTimeToLiveCommand({ TableName: names.entries, TimeToLiveSpecification: { Enabled: true, AttributeName: 'gone_at' } }));
      const d = DynamoDBDocumentClient.from(client);
      await d.send(new PutCommand({ TableName: names.entries, Item: { stream: 'ttl', seq: 1, gone_at: Math.floor(clock / 1000) - 1 } }));
      expect(await ttlFront.sweepTtl()).toBe(1);
      const streams = new DynamoDBStreamsClient({ endpoint: ttlFront.endpoint, region: 'us-east-1', credentials });
      const arn = (await client.send(new DescribeTableCommand({ TableName: names.entries }))).Table?.LatestStreamArn;
      const it = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: 'shardId-00000000000000000001-local', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      const records = (await streams.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? [];
      expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'REMOVE']);
      expect(records.at(-1)).toMatchObject({ eventName: 'REMOVE', userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' } });
    } finally {
      await ttlFront.close();
    }
  });
});

describe('on-disk data', () => {
  it('keeps items and stream records across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtl-ddb-'));
    try {
      const first = await startLocalDynamoDb({ path: dir, ttlSweepIntervalMs: 0 });
      await createTables(clientFor(first.endpoint), names);
      await DynamoDBDocumentClient.from(clientFor(first.endpoint)).send(new PutCommand({ TableName: names.entries, Item: { stream: 'disk', seq: 1 } }));
      await first.close();
      const second = await startLocalDynamoDb({ path: dir, ttlSweepIntervalMs: 0 });
      try {
        const item = await DynamoDBDocumentClient.from(clientFor(second.endpoint)).send(new GetCommand({ TableName: names.entries, Key: { stream: 'disk', seq: 1 } }));
        expect(item.Item).toEqual({ stream: 'disk', seq: 1 });
        expect(second.latestSequence(names.entries)).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
