import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type GetRecordsCommandOutput,
  type _Record as StreamRecord,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TABLES, type TableId } from '../../shared/spec/tables';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';

const names = Object.fromEntries(TABLES.map((t) => [t.id, `st-${t.id}`])) as Record<TableId, string>;
const config = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
let clock = Date.UTC(2026, 0, 1, 12);
let ddb: LocalDynamoDb;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;

/** A table keyed by `id` alone, with a stream of the given view type (none when omitted). */
async function createTable(name: string, viewType?: StreamViewType) {
  return client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ...(viewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: viewType } } : {}),
    }),
  );
}

async function streamOf(table: string): Promise<{ arn: string; shardId: string }> {
  const arn = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn as string;
  const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription?.Shards?.[0]?.ShardId as string;
  return { arn, shardId };
}

async function iterator(table: string, type: ShardIteratorType, sequenceNumber?: string): Promise<string> {
  const { arn, shardId } = await streamOf(table);
  const out = await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: sequenceNumber }));
  return out.ShardIterator as string;
}

/** Every record from the iterator on, page by page, until a page comes back empty. */
async function readFrom(shardIterator: string, limit = 1000): Promise<{ records: StreamRecord[]; pages: number[] }> {
  const records: StreamRecord[] = [];
  const pages: number[] = [];
  for (let next: string | undefined = shardIterator; next; ) {
    const page: GetRecordsCommandOutput = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: limit }));
    const got = page.Records ?? [];
    pages.push(got.length);
    records.push(...got);
    next = got.length > 0 ? page.NextShardIterator : undefined;
  }
  return { records, pages };
}

const readAll = async (table: string) => (await readFrom(await iterator(table, 'TRIM_HORIZON'))).records;
const summary = (records: StreamRecord[]) => records.map((r) => [r.eventName, r.dynamodb?.Keys?.id?.S]);

beforeAll(async () => {
  ddb = await startLocalDynamoDb({ now: () => clock, ttlSweepIntervalMs: 0 });
  client = new DynamoDBClient({ ...config, endpoint: ddb.endpoint });
  doc = DynamoDBDocumentClient.from(client);
  streams = new DynamoDBStreamsClient({ ...config, endpoint: ddb.endpoint });
  await createTables(client, names);
});

afterAll(async () => {
  await ddb?.close();
});

describe('DynamoDB Streams', () => {
  it('describes the stream a table declares, on the table and through the Streams API', async () => {
    const created = (await createTable('st-described', 'NEW_AND_OLD_IMAGES')).TableDescription;
    expect(created?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(created?.LatestStreamArn).toBe(`${created?.TableArn}/stream/${created?.LatestStreamLabel}`);
    const described = (await client.send(new DescribeTableCommand({ TableName: 'st-described' }))).Table;
    expect(described).toMatchObject({ StreamSpecification: created?.StreamSpecification, LatestStreamArn: created?.LatestStreamArn, LatestStreamLabel: created?.LatestStreamLabel });
    const listed = await streams.send(new ListStreamsCommand({ TableName: 'st-described' }));
    expect(listed.Streams).toEqual([{ StreamArn: created?.LatestStreamArn, TableName: 'st-described', StreamLabel: created?.LatestStreamLabel }]);
    const stream = (await streams.send(new DescribeStreamCommand({ StreamArn: created?.LatestStreamArn }))).StreamDescription;
    expect(stream).toMatchObject({ StreamStatus: 'ENABLED', StreamViewType: 'NEW_AND_OLD_IMAGES', TableName: 'st-described', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] });
    expect(stream?.Shards).toHaveLength(1);
    const plain = (await createTable('st-no-stream')).TableDescription;
    expect(plain?.LatestStreamArn).toBeUndefined();
    expect((await client.send(new DescribeTableCommand({ TableName: 'st-no-stream' }))).Table?.StreamSpecification).toBeUndefined();
  });

  it.each<[StreamViewType, boolean, boolean]>([
    ['KEYS_ONLY', false, false],
    ['NEW_IMAGE', true, false],
    ['OLD_IMAGE', false, true],
    ['NEW_AND_OLD_IMAGES', true, true],
  ])('records INSERT, MODIFY and REMOVE with the images of a %s stream', async (viewType, withNew, withOld) => {
    const table = `st-view-${viewType.toLowerCase()}`;
    await createTable(table, viewType);
    await doc.send(new PutCommand({ TableName: table, Item: { id: 'a', v: 1 } }));
    await doc.send(new UpdateCommand({ TableName: table, Key: { id: 'a' }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 2 } }));
    await doc.send(new DeleteCommand({ TableName: table, Key: { id: 'a' } }));
    const records = await readAll(table);
    const v1 = { id: { S: 'a' }, v: { N: '1' } };
    const v2 = { id: { S: 'a' }, v: { N: '2' } };
    const images = (newImage: object | undefined, oldImage: object | undefined) => ({
      ...(withNew && newImage ? { NewImage: newImage } : {}),
      ...(withOld && oldImage ? { OldImage: oldImage } : {}),
    });
    expect(records.map((r) => ({ eventName: r.eventName, ...r.dynamodb, SequenceNumber: undefined, SizeBytes: undefined }))).toEqual([
      { eventName: 'INSERT', ApproximateCreationDateTime: new Date(Math.floor(clock / 1000) * 1000), Keys: { id: { S: 'a' } }, ...images(v1, undefined), StreamViewType: viewType },
      { eventName: 'MODIFY', ApproximateCreationDateTime: new Date(Math.floor(clock / 1000) * 1000), Keys: { id: { S: 'a' } }, ...images(v2, v1), StreamViewType: viewType },
      { eventName: 'REMOVE', ApproximateCreationDateTime: new Date(Math.floor(clock / 1000) * 1000), Keys: { id: { S: 'a' } }, ...images(undefined, v2), StreamViewType: viewType },
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', awsRegion: 'us-east-1' });
      expect(r.eventID).toMatch(/^[0-9a-f]{32}$/);
      expect(r.dynamodb?.SizeBytes).toBeGreaterThan(0);
      expect(r.userIdentity).toBeUndefined();
    }
  });

  it('orders records by commit order, with ascending zero-padded sequence numbers', async () => {
    await createTable('st-order', 'NEW_IMAGE');
    await Promise.all(Array.from({ length: 40 }, () => doc.send(new UpdateCommand({ TableName: 'st-order', Key: { id: 'n' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } }))));
    const records = await readAll('st-order');
    expect(records.map((r) => Number(r.dynamodb?.NewImage?.n?.N))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const sequence = records.map((r) => r.dynamodb?.SequenceNumber as string);
    for (const s of sequence) expect(s).toMatch(/^\d{21}$/);
    for (let i = 1; i < sequence.length; i++) expect(BigInt(sequence[i] as string) > BigInt(sequence[i - 1] as string)).toBe(true);
  });

  it('writes no record for a write that changes nothing or is refused', async () => {
    await createTable('st-quiet', 'NEW_AND_OLD_IMAGES');
    await doc.send(new PutCommand({ TableName: 'st-quiet', Item: { id: 'a', v: 1, tags: new Set(['x', 'y']) } }));
    const latest = await iterator('st-quiet', 'LATEST');
    await doc.send(new PutCommand({ TableName: 'st-quiet', Item: { tags: new Set(['y', 'x']), v: 1, id: 'a' } }));
    await doc.send(new UpdateCommand({ TableName: 'st-quiet', Key: { id: 'a' }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 1 } }));
    await doc.send(new DeleteCommand({ TableName: 'st-quiet', Key: { id: 'missing' } }));
    await expect(doc.send(new PutCommand({ TableName: 'st-quiet', Item: { id: 'a', v: 9 }, ConditionExpression: 'attribute_not_exists(id)' }))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    await doc.send(new UpdateCommand({ TableName: 'st-quiet', Key: { id: 'a' }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 2 } }));
    expect(summary((await readFrom(latest)).records)).toEqual([['MODIFY', 'a']]);
  });

  it('records one record per written item of a transaction, in order, and none for a cancelled one', async () => {
    await createTable('st-tx', 'NEW_IMAGE');
    await doc.send(new PutCommand({ TableName: 'st-tx', Item: { id: 'guard' } }));
    const latest = await iterator('st-tx', 'LATEST');
    const items = (guard: string) => [
      { Put: { TableName: 'st-tx', Item: { id: 'p1' } } },
      { Update: { TableName: 'st-tx', Key: { id: 'u1' }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 1 } } },
      { ConditionCheck: { TableName: 'st-tx', Key: { id: guard }, ConditionExpression: 'attribute_exists(id)' } },
      { Put: { TableName: 'st-tx', Item: { id: 'p2' } } },
    ];
    await expect(doc.send(new TransactWriteCommand({ TransactItems: items('missing') }))).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    await doc.send(new TransactWriteCommand({ TransactItems: items('guard') }));
    const { records } = await readFrom(latest);
    expect(summary(records)).toEqual([
      ['INSERT', 'p1'],
      ['INSERT', 'u1'],
      ['INSERT', 'p2'],
    ]);
    const seqs = records.map((r) => Number(r.dynamodb?.SequenceNumber));
    expect(seqs).toEqual([seqs[0], (seqs[0] as number) + 1, (seqs[0] as number) + 2]);
  });

  it('records batch writes', async () => {
    await createTable('st-batch', 'KEYS_ONLY');
    await client.send(new BatchWriteItemCommand({ RequestItems: { 'st-batch': [{ PutRequest: { Item: { id: { S: 'a' } } } }, { PutRequest: { Item: { id: { S: 'b' } } } }] } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { 'st-batch': [{ DeleteRequest: { Key: { id: { S: 'a' } } } }] } }));
    const records = await readAll('st-batch');
    expect(summary(records).sort()).toEqual([
      ['INSERT', 'a'],
      ['INSERT', 'b'],
      ['REMOVE', 'a'],
    ]);
    expect(summary(records).at(-1)).toEqual(['REMOVE', 'a']);
  });

  it('pages GetRecords by Limit and NextShardIterator, and starts where an iterator says', async () => {
    await createTable('st-pages', 'NEW_IMAGE');
    for (let i = 1; i <= 7; i++) await doc.send(new PutCommand({ TableName: 'st-pages', Item: { id: String(i) } }));
    const all = await readFrom(await iterator('st-pages', 'TRIM_HORIZON'), 3);
    expect(all.pages).toEqual([3, 3, 1, 0]);
    expect(summary(all.records).map(([, id]) => id)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    const third = all.records[2]?.dynamodb?.SequenceNumber;
    const at = await readFrom(await iterator('st-pages', 'AT_SEQUENCE_NUMBER', third));
    expect(summary(at.records).map(([, id]) => id)).toEqual(['3', '4', '5', '6', '7']);
    const after = await readFrom(await iterator('st-pages', 'AFTER_SEQUENCE_NUMBER', third));
    expect(summary(after.records).map(([, id]) => id)).toEqual(['4', '5', '6', '7']);
    const latest = await iterator('st-pages', 'LATEST');
    expect((await readFrom(latest)).records).toEqual([]);
    await doc.send(new PutCommand({ TableName: 'st-pages', Item: { id: '8' } }));
    expect(summary((await readFrom(latest)).records)).toEqual([['INSERT', '8']]);
  });

  it('answers Streams errors in DynamoDB Streams wire format', async () => {
    const { arn, shardId } = await streamOf('st-pages');
    await expect(streams.send(new DescribeStreamCommand({ StreamArn: `${arn}-gone` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: 'shardId-nope', ShardIteratorType: 'TRIM_HORIZON' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(streams.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('keeps records for 24 hours by the clock', async () => {
    await createTable('st-retention', 'NEW_IMAGE');
    const start = await iterator('st-retention', 'TRIM_HORIZON');
    await doc.send(new PutCommand({ TableName: 'st-retention', Item: { id: 'old' } }));
    const oldSequence = (await readAll('st-retention'))[0]?.dynamodb?.SequenceNumber;
    clock += 24 * 3600 * 1000 + 1000;
    await doc.send(new PutCommand({ TableName: 'st-retention', Item: { id: 'new' } }));
    expect(summary(await readAll('st-retention'))).toEqual([['INSERT', 'new']]);
    await expect(streams.send(new GetRecordsCommand({ ShardIterator: start }))).rejects.toMatchObject({ name: 'TrimmedDataAccessException' });
    await expect(iterator('st-retention', 'AT_SEQUENCE_NUMBER', oldSequence)).rejects.toMatchObject({ name: 'TrimmedDataAccessException' });
  });

  it('starts and stops a stream with UpdateTable', async () => {
    await createTable('st-toggle');
    await doc.send(new PutCommand({ TableName: 'st-toggle', Item: { id: 'before' } }));
    const enabled = await client.send(new UpdateTableCommand({ TableName: 'st-toggle', StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }));
    expect(enabled.TableDescription?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });
    await doc.send(new PutCommand({ TableName: 'st-toggle', Item: { id: 'after' } }));
    expect(summary(await readAll('st-toggle'))).toEqual([['INSERT', 'after']]);
    await client.send(new UpdateTableCommand({ TableName: 'st-toggle', StreamSpecification: { StreamEnabled: false } }));
    expect((await client.send(new DescribeTableCommand({ TableName: 'st-toggle' }))).Table?.LatestStreamArn).toBeUndefined();
    expect((await streams.send(new ListStreamsCommand({ TableName: 'st-toggle' }))).Streams).toEqual([]);
  });
});

describe('Time to Live', () => {
  const nowSeconds = () => Math.floor(clock / 1000);

  it('is enabled by createTables where the spec names an attribute, and refuses to be enabled twice', async () => {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: names.connections }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
    expect((await client.send(new DescribeTimeToLiveCommand({ TableName: names.catalog }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'DISABLED' });
    await expect(
      client.send(new UpdateTimeToLiveCommand({ TableName: names.connections, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires_at' } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new DescribeTimeToLiveCommand({ TableName: 'st-nowhere' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // createTables again (a restart) leaves everything as it is.
    await createTables(client, names);
  });

  it('sweeps only expired items, each a REMOVE record from the service', async () => {
    await createTable('st-ttl', 'NEW_AND_OLD_IMAGES');
    await client.send(new UpdateTimeToLiveCommand({ TableName: 'st-ttl', TimeToLiveSpecification: { Enabled: true, AttributeName: 'gone_at' } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'expired', gone_at: nowSeconds() - 1 } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'later', gone_at: nowSeconds() + 100 } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'text', gone_at: String(nowSeconds() - 1) } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'none' } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'renewed', gone_at: nowSeconds() - 1 } }));
    await doc.send(new UpdateCommand({ TableName: 'st-ttl', Key: { id: 'renewed' }, UpdateExpression: 'SET gone_at = :t', ExpressionAttributeValues: { ':t': nowSeconds() + 1000 } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl', Item: { id: 'deleted', gone_at: nowSeconds() - 1 } }));
    await doc.send(new DeleteCommand({ TableName: 'st-ttl', Key: { id: 'deleted' } }));
    const latest = await iterator('st-ttl', 'LATEST');

    expect(await ddb.sweepTtl()).toBe(1);
    expect(await ddb.sweepTtl()).toBe(0);
    const [removed, ...rest] = (await readFrom(latest)).records;
    expect(rest).toEqual([]);
    expect(removed).toMatchObject({
      eventName: 'REMOVE',
      userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
      dynamodb: { Keys: { id: { S: 'expired' } }, OldImage: { id: { S: 'expired' }, gone_at: { N: String(nowSeconds() - 1) } } },
    });
    const present = async (id: string) => (await doc.send(new GetCommand({ TableName: 'st-ttl', Key: { id }, ConsistentRead: true }))).Item !== undefined;
    expect([await present('expired'), await present('later'), await present('text'), await present('none'), await present('renewed')]).toEqual([false, true, true, true, true]);

    clock += 101_000;
    expect(await ddb.sweepTtl()).toBe(1);
    expect(await present('later')).toBe(false);
  });

  it('finds items written before TTL was enabled, and stops when it is disabled', async () => {
    await createTable('st-ttl-late');
    await doc.send(new PutCommand({ TableName: 'st-ttl-late', Item: { id: 'a', t: nowSeconds() - 10 } }));
    await doc.send(new PutCommand({ TableName: 'st-ttl-late', Item: { id: 'b', t: nowSeconds() + 10 } }));
    await client.send(new UpdateTimeToLiveCommand({ TableName: 'st-ttl-late', TimeToLiveSpecification: { Enabled: true, AttributeName: 't' } }));
    expect(await ddb.sweepTtl()).toBe(1);
    await client.send(new UpdateTimeToLiveCommand({ TableName: 'st-ttl-late', TimeToLiveSpecification: { Enabled: false, AttributeName: 't' } }));
    clock += 20_000;
    expect(await ddb.sweepTtl()).toBe(0);
    expect((await doc.send(new GetCommand({ TableName: 'st-ttl-late', Key: { id: 'b' } }))).Item).toBeDefined();
  });

  it('sweeps on its own timer', async () => {
    let ownClock = Date.UTC(2026, 0, 1);
    const timed = await startLocalDynamoDb({ now: () => ownClock, ttlSweepIntervalMs: 10 });
    try {
      const ownClient = new DynamoDBClient({ ...config, endpoint: timed.endpoint });
      const own = DynamoDBDocumentClient.from(ownClient);
      await createTables(ownClient, names);
      await own.send(new PutCommand({ TableName: names.idempotency, Item: { pk: 'key', expires_at: Math.floor(ownClock / 1000) + 5 } }));
      ownClock += 6000;
      await vi.waitFor(async () => expect((await own.send(new GetCommand({ TableName: names.idempotency, Key: { pk: 'key' } }))).Item).toBeUndefined(), {
        timeout: 5000,
        interval: 10,
      });
    } finally {
      await timed.close();
    }
  });
});

describe('request counts', () => {
  it('counts requests and consumed capacity per operation and table, showing capacity only to callers who ask', async () => {
    ddb.resetStats();
    const put = await doc.send(new PutCommand({ TableName: names.catalog, Item: { pk: 'count', sk: 'a', blob: 'x'.repeat(1500) } }));
    expect(put.ConsumedCapacity).toBeUndefined();
    await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'count', sk: 'a' }, ConsistentRead: true }));
    const shown = await doc.send(new GetCommand({ TableName: names.catalog, Key: { pk: 'count', sk: 'a' }, ReturnConsumedCapacity: 'TOTAL' }));
    expect(shown.ConsumedCapacity).toEqual({ TableName: names.catalog, CapacityUnits: 0.5 });
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [{ Put: { TableName: names.catalog, Item: { pk: 'count', sk: 'b' } } }, { Put: { TableName: names.entitlements, Item: { pk: 'count', sk: 'b' } } }],
      }),
    );
    await streams.send(new ListStreamsCommand({}));
    expect(ddb.stats()).toEqual({
      requests: { PutItem: 1, GetItem: 2, TransactWriteItems: 1, 'Streams.ListStreams': 1 },
      readCapacityUnits: 1.5,
      writeCapacityUnits: 2 + 2 + 2,
      byTable: {
        [names.catalog]: { requests: 4, readCapacityUnits: 1.5, writeCapacityUnits: 4 },
        [names.entitlements]: { requests: 1, readCapacityUnits: 0, writeCapacityUnits: 2 },
      },
    });
    ddb.resetStats();
    expect(ddb.stats()).toEqual({ requests: {}, readCapacityUnits: 0, writeCapacityUnits: 0, byTable: {} });
  });
});
