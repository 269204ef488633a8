/**
 * The local DynamoDB endpoint: dynalite behind a front that adds what dynalite lacks —
 * TransactWriteItems / TransactGetItems, DynamoDB Streams, TTL — and counts requests
 * and consumed capacity for the bench. Single-item calls go to dynalite unchanged;
 * a reader/writer lock makes every write, and every transaction, atomic and isolated.
 */
import { CreateTableCommand, ResourceInUseException, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TABLES, type IndexSpec, type TableId, type TableSpec } from '../../shared/spec/tables';
import { DynaliteBackend, type Json } from './backend';
import { ReadWriteLock } from './rwlock';
import { RETENTION_MS, StreamStore, type Item, type StreamRecord, type StreamViewType } from './streams';
import { runTransactGet, runTransactWrite } from './transactions';

export interface LocalDynamoDbOptions {
  /** LevelDB directory for on-disk data; omitted = in-memory. */
  readonly path?: string;
  readonly host?: string;
  readonly port?: number;
  /** The injectable clock (epoch ms) for TTL sweeps and stream record times. */
  readonly now?: () => number;
  /** 0 = no timer (call sweepTtl yourself). */
  readonly ttlSweepIntervalMs?: number;
}

export interface DynamoDbStats {
  requests: Record<string, number>;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  byTable: Record<string, { requests: number; readCapacityUnits: number; writeCapacityUnits: number }>;
}

export interface LocalDynamoDb {
  readonly endpoint: string;
  sweepTtl(): Promise<number>;
  stats(): DynamoDbStats;
  resetStats(): void;
  /** The newest stream sequence number written for a table (0 when none): lets pollers tell when they have caught up. */
  latestSequence(table: string): number;
  close(): Promise<void>;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'DescribeTable', 'ListTables', 'DescribeTimeToLive', 'ListTagsOfResource']);
const ITEM_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

interface Meta {
  streams: Record<string, { viewType: StreamViewType; label: string; keyNames: string[] }>;
  ttl: Record<string, string>;
}

function emptyStats(): DynamoDbStats {
  return { requests: {}, readCapacityUnits: 0, writeCapacityUnits: 0, byTable: {} };
}

/** Everything the front knows about one table: its key names, from DescribeTable. */
export class Front {
  readonly lock = new ReadWriteLock();
  readonly streams: StreamStore;
  readonly ttl = new Map<string, string>();
  private readonly keyNames = new Map<string, string[]>();
  stats = emptyStats();

  constructor(
    readonly backend: DynaliteBackend,
    readonly now: () => number,
    private readonly dataDir: string | undefined,
  ) {
    this.streams = new StreamStore(now);
    if (dataDir) this.load();
  }

  private metaFile(): string {
    return join(this.dataDir as string, 'front-meta.json');
  }

  private recordsFile(): string {
    return join(this.dataDir as string, 'stream-records.jsonl');
  }

  private load(): void {
    if (existsSync(this.metaFile())) {
      const meta = JSON.parse(readFileSync(this.metaFile(), 'utf8')) as Meta;
      for (const [table, s] of Object.entries(meta.streams)) {
        this.streams.enable(table, s.viewType, s.keyNames, s.label);
        this.keyNames.set(table, s.keyNames);
      }
      for (const [table, attr] of Object.entries(meta.ttl)) this.ttl.set(table, attr);
    }
    if (existsSync(this.recordsFile())) {
      const horizon = this.now() - RETENTION_MS;
      const byTable = new Map<string, [number, StreamRecord][]>();
      for (const line of readFileSync(this.recordsFile(), 'utf8').split('\n')) {
        if (!line) continue;
        const { table, at, record } = JSON.parse(line) as { table: string; at: number; record: StreamRecord };
        if (at < horizon) continue;
        byTable.set(table, [...(byTable.get(table) ?? []), [at, record]]);
      }
      for (const [table, records] of byTable) this.streams.restore(table, records);
    }
  }

  private saveMeta(): void {
    if (!this.dataDir) return;
    const meta: Meta = { streams: {}, ttl: Object.fromEntries(this.ttl) };
    for (const [table, s] of this.streams.tables) meta.streams[table] = { viewType: s.viewType, label: s.label, keyNames: [...s.keyNames] };
    writeFileSync(this.metaFile(), JSON.stringify(meta));
  }

  async keysOf(table: string): Promise<string[]> {
    const known = this.keyNames.get(table);
    if (known) return known;
    const out = (await this.backend.call('DescribeTable', { TableName: table })) as { Table: { KeySchema: { AttributeName: string; KeyType: string }[] } };
    const names = [...out.Table.KeySchema].sort((a) => (a.KeyType === 'HASH' ? -1 : 1)).map((k) => k.AttributeName);
    this.keyNames.set(table, names);
    return names;
  }

  async keyOf(table: string, item: Item): Promise<Item> {
    const names = await this.keysOf(table);
    return Object.fromEntries(names.map((n) => [n, item[n] as Record<string, unknown>]));
  }

  async getItem(table: string, key: Item): Promise<Item | undefined> {
    const out = await this.backend.call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    return out.Item as Item | undefined;
  }

  /** Appends (and persists) the stream record of one applied write. */
  record(table: string, oldItem: Item | undefined, newItem: Item | undefined, byTtl = false): void {
    const record = this.streams.append(table, oldItem, newItem, byTtl);
    if (record && this.dataDir) appendFileSync(this.recordsFile(), `${JSON.stringify({ table, at: this.now(), record })}\n`);
  }

  hasStream(table: string): boolean {
    return this.streams.tables.has(table);
  }

  count(operation: string, tables: string[], consumed: unknown): void {
    this.stats.requests[operation] = (this.stats.requests[operation] ?? 0) + 1;
    const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
    for (const table of tables) {
      const t = (this.stats.byTable[table] ??= { requests: 0, readCapacityUnits: 0, writeCapacityUnits: 0 });
      t.requests++;
    }
    for (const c of list as { TableName?: string; CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }[]) {
      const units = c.CapacityUnits ?? 0;
      const isRead = READS.has(operation) || operation === 'TransactGetItems';
      const read = c.ReadCapacityUnits ?? (isRead ? units : 0);
      const write = c.WriteCapacityUnits ?? (isRead ? 0 : units);
      this.stats.readCapacityUnits += read;
      this.stats.writeCapacityUnits += write;
      const t = c.TableName ? (this.stats.byTable[c.TableName] ??= { requests: 0, readCapacityUnits: 0, writeCapacityUnits: 0 }) : undefined;
      if (t) {
        t.readCapacityUnits += read;
        t.writeCapacityUnits += write;
      }
    }
  }

  onCreated(table: string, spec: Json | undefined, keySchema: { AttributeName: string; KeyType: string }[]): void {
    const names = [...keySchema].sort((a) => (a.KeyType === 'HASH' ? -1 : 1)).map((k) => k.AttributeName);
    this.keyNames.set(table, names);
    if (spec?.StreamEnabled) {
      this.streams.enable(table, (spec.StreamViewType as StreamViewType) ?? 'NEW_AND_OLD_IMAGES', names);
      this.saveMeta();
    }
  }

  onDeleted(table: string): void {
    this.keyNames.delete(table);
    this.streams.tables.delete(table);
    this.ttl.delete(table);
    this.saveMeta();
  }

  setTtl(table: string, attribute: string | undefined): void {
    if (attribute) this.ttl.set(table, attribute);
    else this.ttl.delete(table);
    this.saveMeta();
  }

  /** Deletes expired items of TTL tables, each a REMOVE record marked as the service's. */
  async sweepTtl(): Promise<number> {
    let deleted = 0;
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const [table, attribute] of this.ttl) {
      let startKey: Json | undefined;
      do {
        const page = await this.lock.read(() =>
          this.backend.call('Scan', {
            TableName: table,
            FilterExpression: '#t < :now',
            ExpressionAttributeNames: { '#t': attribute },
            ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of (page.Items ?? []) as Item[]) {
          const key = await this.keyOf(table, item);
          const removed = await this.lock.write(async () => {
            try {
              const out = await this.backend.call('DeleteItem', {
                TableName: table,
                Key: key,
                ConditionExpression: '#t < :now',
                ExpressionAttributeNames: { '#t': attribute },
                ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
                ReturnValues: 'ALL_OLD',
              });
              this.record(table, out.Attributes as Item, undefined, true);
              return true;
            } catch {
              return false; // rewritten since the scan: no longer expired
            }
          });
          if (removed) deleted++;
        }
        startKey = page.LastEvaluatedKey as Json | undefined;
      } while (startKey);
    }
    return deleted;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Json | string, contentType = 'application/x-amz-json-1.0'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': Math.random().toString(36).slice(2).toUpperCase(), 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function tablesOf(data: Json): string[] {
  if (typeof data.TableName === 'string') return [data.TableName];
  if (data.RequestItems && typeof data.RequestItems === 'object') return Object.keys(data.RequestItems);
  if (Array.isArray(data.TransactItems)) {
    return [...new Set((data.TransactItems as Json[]).map((t) => String((Object.values(t)[0] as Json | undefined)?.TableName)))];
  }
  return [];
}

/** Runs one client request on dynalite, capturing images for stream tables and counting capacity. */
async function forward(front: Front, operation: string, data: Json): Promise<{ status: number; body: Json }> {
  // Ask dynalite for capacity even when the caller did not, and hide it again.
  const askedCapacity = data.ReturnConsumedCapacity !== undefined;
  const sent = askedCapacity ? data : { ...data, ReturnConsumedCapacity: 'TOTAL' };
  const exec = () => front.backend.send(operation, structuredClone(sent));
  const streamTables = tablesOf(data).filter((t) => front.hasStream(t));
  const isWrite = ITEM_WRITES.has(operation) || operation === 'BatchWriteItem';
  let reply;
  if (isWrite && streamTables.length > 0) {
    reply = await front.lock.write(() => forwardWithImages(front, operation, data, exec));
  } else if (isWrite || !READS.has(operation)) {
    reply = await front.lock.write(exec);
  } else {
    reply = await front.lock.read(exec);
  }
  front.count(operation, tablesOf(data), reply.body.ConsumedCapacity);
  if (reply.status !== 200) return reply;
  const body: Json = { ...reply.body };
  if (!askedCapacity) delete body.ConsumedCapacity;
  if (operation === 'CreateTable') {
    const desc = body.TableDescription as Json;
    front.onCreated(data.TableName as string, data.StreamSpecification as Json | undefined, data.KeySchema as { AttributeName: string; KeyType: string }[]);
    decorateTable(front, desc);
  } else if (operation === 'DescribeTable') {
    decorateTable(front, body.Table as Json);
  } else if (operation === 'DeleteTable') {
    front.onDeleted(data.TableName as string);
  }
  return { status: 200, body };
}

function decorateTable(front: Front, desc: Json | undefined): void {
  const stream = desc && front.streams.tables.get(desc.TableName as string);
  if (!desc || !stream) return;
  desc.StreamSpecification = { StreamEnabled: true, StreamViewType: stream.viewType };
  desc.LatestStreamArn = stream.arn;
  desc.LatestStreamLabel = stream.label;
}

/** Under the writer lock: old image, the write, new image, stream record. */
async function forwardWithImages(front: Front, operation: string, data: Json, exec: () => ReturnType<DynaliteBackend['send']>) {
  if (operation === 'BatchWriteItem') {
    const writes: { table: string; key: Item; put?: Item; old?: Item }[] = [];
    for (const [table, requests] of Object.entries(data.RequestItems as Record<string, Json[]>)) {
      if (!front.hasStream(table) || !Array.isArray(requests)) continue;
      for (const r of requests) {
        const put = (r.PutRequest as Json | undefined)?.Item as Item | undefined;
        const key = put ? await front.keyOf(table, put) : ((r.DeleteRequest as Json | undefined)?.Key as Item);
        if (key) writes.push({ table, key, put, old: await front.getItem(table, key) });
      }
    }
    const reply = await exec();
    if (reply.status === 200) for (const w of writes) front.record(w.table, w.old, w.put);
    return reply;
  }
  const table = data.TableName as string;
  const key = operation === 'PutItem' ? await front.keyOf(table, data.Item as Item) : (data.Key as Item);
  const old = key ? await front.getItem(table, key).catch(() => undefined) : undefined;
  const reply = await exec();
  if (reply.status === 200) {
    const next = operation === 'DeleteItem' ? undefined : operation === 'PutItem' ? (data.Item as Item) : await front.getItem(table, key);
    front.record(table, old, next);
  }
  return reply;
}

async function handle(front: Front, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  const [api, operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
  let data: Json | undefined;
  try {
    data = raw ? (JSON.parse(raw) as Json) : undefined;
  } catch {
    data = undefined;
  }
  if (api === 'DynamoDBStreams_20120810') {
    const out = await front.streams.handleWaiting(operation, data ?? {});
    front.stats.requests[`Streams.${operation}`] = (front.stats.requests[`Streams.${operation}`] ?? 0) + 1;
    return send(res, out.status, out.body);
  }
  if (api !== 'DynamoDB_20120810') return send(res, 400, { __type: 'com.amazon.coral.service#UnknownOperationException' });
  if (!data || typeof data !== 'object' || Array.isArray(data)) return send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
  switch (operation) {
    case 'TransactWriteItems': {
      const out = await runTransactWrite(front, data);
      front.count(operation, tablesOf(data), out.consumed);
      return send(res, out.status, out.body);
    }
    case 'TransactGetItems': {
      const out = await runTransactGet(front, data);
      front.count(operation, tablesOf(data), out.consumed);
      return send(res, out.status, out.body);
    }
    case 'UpdateTimeToLive': {
      const spec = data.TimeToLiveSpecification as { Enabled?: boolean; AttributeName?: string } | undefined;
      if (typeof data.TableName !== 'string' || !spec || typeof spec.AttributeName !== 'string' || typeof spec.Enabled !== 'boolean') {
        return send(res, 400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'TimeToLiveSpecification requires Enabled and AttributeName' });
      }
      try {
        await front.keysOf(data.TableName);
      } catch {
        return send(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' });
      }
      front.setTtl(data.TableName, spec.Enabled ? spec.AttributeName : undefined);
      return send(res, 200, { TimeToLiveSpecification: spec });
    }
    case 'DescribeTimeToLive': {
      const reply = await forward(front, operation, data);
      if (reply.status !== 200) return send(res, reply.status, reply.body);
      const attribute = front.ttl.get(data.TableName as string);
      return send(res, 200, {
        TimeToLiveDescription: attribute ? { TimeToLiveStatus: 'ENABLED', AttributeName: attribute } : { TimeToLiveStatus: 'DISABLED' },
      });
    }
    default: {
      const out = await forward(front, operation, data);
      return send(res, out.status, out.body);
    }
  }
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const backend = DynaliteBackend.start(options.path);
  const front = new Front(backend, options.now ?? Date.now, options.path);
  const server = createServer((req, res) => {
    handle(front, req, res).catch((error: unknown) => {
      send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  const interval = options.ttlSweepIntervalMs ?? 1000;
  let sweeping: Promise<number> | undefined;
  const sweep = () => (sweeping ??= front.sweepTtl().finally(() => (sweeping = undefined)));
  const timer = interval > 0 ? setInterval(() => void sweep().catch(() => undefined), interval) : undefined;
  timer?.unref();
  return {
    endpoint: `http://${address.address}:${address.port}`,
    sweepTtl: sweep,
    stats: () => structuredClone(front.stats),
    resetStats: () => {
      front.stats = emptyStats();
    },
    latestSequence: (table) => {
      const last = front.streams.tables.get(table)?.records.at(-1)?.[1];
      return last ? Number(last.dynamodb.SequenceNumber) : 0;
    },
    async close() {
      if (timer) clearInterval(timer);
      await sweeping?.catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Writes are applied before their reply is sent, so nothing committed is lost here.
      await front.lock.write(() => backend.close());
    },
  };
}

function createTableInput(spec: TableSpec, name: string): CreateTableCommandInput {
  const attributes = new Map<string, 'S' | 'N'>();
  const add = (a: { name: string; type: 'S' | 'N' } | undefined) => a && attributes.set(a.name, a.type);
  add(spec.partitionKey);
  add(spec.sortKey);
  const keySchema = (pk: { name: string }, sk?: { name: string }) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  const projection = (p: IndexSpec['projection']) =>
    typeof p === 'string' ? { ProjectionType: p } : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...p.include] };
  for (const index of [...(spec.localIndexes ?? []), ...(spec.globalIndexes ?? [])]) {
    add(index.partitionKey);
    add(index.sortKey);
  }
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(spec.localIndexes?.length
      ? { LocalSecondaryIndexes: spec.localIndexes.map((i) => ({ IndexName: i.indexName, KeySchema: keySchema(spec.partitionKey, i.sortKey), Projection: projection(i.projection) })) }
      : {}),
    ...(spec.globalIndexes?.length
      ? {
          GlobalSecondaryIndexes: spec.globalIndexes.map((i) => ({
            IndexName: i.indexName,
            KeySchema: keySchema(i.partitionKey ?? spec.partitionKey, i.sortKey),
            Projection: projection(i.projection),
          })),
        }
      : {}),
    ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } } : {}),
  };
}

/** Creates every table of the spec under the given names (existing ones are left as they are); `timeToLive: false` for a plain dynalite, which lacks it. */
export async function createTables(client: DynamoDBClient, names: Record<TableId, string>, options: { timeToLive?: boolean } = {}): Promise<void> {
  for (const spec of TABLES) {
    try {
      await client.send(new CreateTableCommand(createTableInput(spec, names[spec.id])));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    if (spec.ttlAttribute && options.timeToLive !== false) {
      await client.send(new UpdateTimeToLiveCommand({ TableName: names[spec.id], TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute } }));
    }
  }
}
