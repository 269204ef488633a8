/**
 * The front: one HTTP endpoint speaking DynamoDB's JSON 1.0 protocol for both the
 * DynamoDB_20120810 and the DynamoDBStreams_20120810 targets. It owns dynalite's store:
 * operations dynalite supports run through dynalite's own validation and action; the
 * front adds transactions, streams and TTL, serializes writes behind a reader/writer
 * lock, and counts requests and consumed capacity.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DYNALITE_OPERATIONS,
  execute,
  runAction,
  serviceError,
  takesReturnConsumedCapacity,
  validate,
  validationError,
  type Json,
  type KeySchemaElement,
  type Reply,
  type TableDescription,
} from './dynalite';
import { Persistence } from './persistence';
import { ReadWriteLock } from './rwlock';
import { ObservedStore, type AppliedWrite } from './store';
import { STREAM_VIEW_TYPES, Streams, type StreamViewType } from './streams';
import { Transactions, type ConsumedCapacity, type CountedReply, type TransactionHost } from './transactions';
import { TimeToLive } from './ttl';

export interface DynamoDbStats {
  requests: Record<string, number>;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  byTable: Record<string, { requests: number; readCapacityUnits: number; writeCapacityUnits: number }>;
}

const DYNAMODB_API = 'DynamoDB_20120810';
const STREAMS_API = 'DynamoDBStreams_20120810';
const FRONT_OPERATIONS = new Set(['TransactWriteItems', 'TransactGetItems', 'UpdateTimeToLive', 'DescribeTimeToLive']);
const STREAM_OPERATIONS = new Set(['ListStreams', 'DescribeStream', 'GetShardIterator', 'GetRecords']);
/** Operations that only read: they share the lock; everything else takes it alone. */
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'DescribeTable', 'ListTables', 'ListTagsOfResource']);
/** Operations whose consumed capacity is read capacity. */
const READ_CAPACITY = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const TTL_BATCH = 100;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One DynamoDB request as the front served it, lock waits included. */
export interface TimedRequest {
  readonly operation: string;
  readonly ms: number;
}

export function emptyStats(): DynamoDbStats {
  return { requests: {}, readCapacityUnits: 0, writeCapacityUnits: 0, byTable: {} };
}

/** The tables a request names (read before dynalite's type checks reshape it). */
function tablesOf(request: Json): string[] {
  if (typeof request.TableName === 'string') return [request.TableName];
  if (isObject(request.RequestItems)) return Object.keys(request.RequestItems);
  if (Array.isArray(request.TransactItems)) {
    const names = request.TransactItems.map((t: unknown) => (isObject(t) ? Object.values(t).find(isObject)?.TableName : undefined));
    return [...new Set(names.filter((n): n is string => typeof n === 'string'))];
  }
  return [];
}

function consumedOf(body: Json): ConsumedCapacity[] {
  const consumed = body.ConsumedCapacity;
  if (Array.isArray(consumed)) return consumed as ConsumedCapacity[];
  return isObject(consumed) ? [consumed as unknown as ConsumedCapacity] : [];
}

function checkStreamSpecification(spec: unknown): Reply | undefined {
  if (!isObject(spec) || typeof spec.StreamEnabled !== 'boolean') {
    return validationError('1 validation error detected: Value null at \'streamSpecification.streamEnabled\' failed to satisfy constraint: Member must not be null');
  }
  if (spec.StreamEnabled && !STREAM_VIEW_TYPES.includes(spec.StreamViewType as StreamViewType)) {
    return validationError('1 validation error detected: Value at \'streamSpecification.streamViewType\' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]');
  }
  return undefined;
}

export class DynamoDbFront implements TransactionHost {
  readonly observed: ObservedStore;
  readonly streams: Streams;
  private readonly ttl = new TimeToLive();
  private readonly lock = new ReadWriteLock();
  private readonly persistence: Persistence | undefined;
  private readonly transactions: Transactions;
  /** Set while the TTL sweep deletes: its REMOVE records are the service's. */
  private ttlDeleting = false;
  stats = emptyStats();
  /** Observers of each DynamoDB request's duration (the bench's transaction stage); none by default. */
  readonly requestListeners = new Set<(request: TimedRequest) => void>();

  private constructor(
    path: string | undefined,
    readonly now: () => number,
  ) {
    this.observed = new ObservedStore(path);
    this.streams = new Streams(now);
    this.transactions = new Transactions(this);
    this.observed.onWrite = (write) => this.applied(write);
    const persistence = path ? new Persistence(this.observed.store) : undefined;
    this.persistence = persistence;
    if (persistence) {
      this.streams.persistence = {
        saveRecord: (table, record) => persistence.saveRecord(table, record),
        dropRecords: (table, through) => persistence.dropRecords(table, through),
        sequenceChanged: () => this.saveState(),
      };
    }
  }

  /** Opens the store (on disk when `path` is given) with what the front saved there. */
  static async open(path: string | undefined, now: () => number): Promise<DynamoDbFront> {
    const front = new DynamoDbFront(path, now);
    const state = await front.persistence?.loadState();
    if (state && front.persistence) {
      front.streams.sequence = state.sequence;
      for (const [table, settings] of Object.entries(state.streams)) front.streams.restore(table, settings, await front.persistence.loadRecords(table));
      for (const [table, attribute] of Object.entries(state.ttl)) {
        front.ttl.enable(table, attribute);
        await front.indexTtl(table);
      }
    }
    return front;
  }

  /** Every applied item write, in commit order: the stream record and the TTL index. */
  private applied(write: AppliedWrite): void {
    this.streams.append(write.table, write.oldItem, write.newItem, this.ttlDeleting);
    if (this.ttl.attributes.has(write.table)) this.ttl.observe(write.table, write.key, write.newItem, this.observed.keyNamesOf(write.table) ?? []);
  }

  private saveState(): void {
    this.persistence?.saveState({ sequence: this.streams.sequence, streams: this.streams.settings(), ttl: Object.fromEntries(this.ttl.attributes) });
  }

  write<T>(run: () => Promise<T>): Promise<T> {
    return this.lock.write(() => this.observed.write(run));
  }

  read<T>(run: () => Promise<T>): Promise<T> {
    return this.lock.read(run);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) return void res.writeHead(413).end();
      chunks.push(chunk);
    }
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('healthy: dynamodb.us-east-1.amazonaws.com ');
    const body = Buffer.concat(chunks).toString('utf8');
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (req.method !== 'POST' || (body && contentType !== 'application/json' && contentType !== 'application/x-amz-json-1.0')) {
      return void res.writeHead(404).end('<UnknownOperationException/>\n');
    }
    const send = (reply: Reply) => {
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': contentType === 'application/json' ? 'application/json' : 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': randomUUID(),
      });
      res.end(text);
    };
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : undefined;
    } catch {
      return send(serviceError('SerializationException'));
    }
    const [api, operation = '', ...rest] = String(req.headers['x-amz-target'] ?? '').split('.');
    const known =
      rest.length === 0 &&
      ((api === STREAMS_API && STREAM_OPERATIONS.has(operation)) || (api === DYNAMODB_API && (DYNALITE_OPERATIONS.has(operation) || FRONT_OPERATIONS.has(operation))));
    if (!known) return send(serviceError('UnknownOperationException'));
    if (!isObject(data)) return send(serviceError('SerializationException'));
    send(api === STREAMS_API ? await this.streamsRequest(operation, data) : await this.dynamodbRequest(operation, data));
  }

  // ---- DynamoDB ------------------------------------------------------------------------------

  private async streamsRequest(operation: string, data: Json): Promise<Reply> {
    const name = `Streams.${operation}`;
    this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
    return this.streams.handle(operation, data);
  }

  async dynamodbRequest(operation: string, request: Json): Promise<Reply> {
    const startedAt = performance.now();
    const tables = tablesOf(request);
    let counted: CountedReply;
    if (operation === 'TransactWriteItems') counted = await this.transactions.write(request);
    else if (operation === 'TransactGetItems') counted = await this.transactions.get(request);
    else if (operation === 'UpdateTimeToLive') counted = { reply: await this.updateTimeToLive(request), consumed: [] };
    else if (operation === 'DescribeTimeToLive') counted = { reply: await this.describeTimeToLive(request), consumed: [] };
    else counted = await this.dynalite(operation, request);
    this.count(operation, tables, counted.consumed);
    if (this.requestListeners.size > 0) {
      const timed = { operation, ms: performance.now() - startedAt };
      for (const listener of this.requestListeners) listener(timed);
    }
    return counted.reply;
  }

  private count(operation: string, tables: readonly string[], consumed: readonly ConsumedCapacity[]): void {
    const stats = this.stats;
    stats.requests[operation] = (stats.requests[operation] ?? 0) + 1;
    const table = (name: string) => (stats.byTable[name] ??= { requests: 0, readCapacityUnits: 0, writeCapacityUnits: 0 });
    for (const name of tables) table(name).requests++;
    const isRead = READ_CAPACITY.has(operation);
    for (const c of consumed) {
      const units = Number(c.CapacityUnits ?? 0);
      const read = c.ReadCapacityUnits ?? (isRead ? units : 0);
      const write = c.WriteCapacityUnits ?? (isRead ? 0 : units);
      stats.readCapacityUnits += read;
      stats.writeCapacityUnits += write;
      if (c.TableName) {
        table(c.TableName).readCapacityUnits += read;
        table(c.TableName).writeCapacityUnits += write;
      }
    }
  }

  /** An operation dynalite supports, through dynalite's own validation and action. */
  private async dynalite(operation: string, request: Json): Promise<CountedReply> {
    const streamSpec = operation === 'CreateTable' || operation === 'UpdateTable' ? request.StreamSpecification : undefined;
    if (streamSpec !== undefined) {
      const invalid = checkStreamSpecification(streamSpec);
      if (invalid) return { reply: invalid, consumed: [] };
      // dynalite's UpdateTable knows no StreamSpecification: a change of the stream alone is the front's.
      if (operation === 'UpdateTable' && Object.keys(request).every((k) => k === 'TableName' || k === 'StreamSpecification')) {
        return { reply: await this.updateStream(request.TableName, streamSpec as Json), consumed: [] };
      }
    }
    // Capacity is always asked of dynalite (the counts need it) and hidden again when the caller did not ask.
    const hideCapacity = takesReturnConsumedCapacity(operation) && (request.ReturnConsumedCapacity == null || request.ReturnConsumedCapacity === 'NONE');
    const checked = validate(this.observed.store, operation, hideCapacity ? { ...request, ReturnConsumedCapacity: 'TOTAL' } : request);
    if ('error' in checked) return { reply: checked.error, consumed: [] };
    const run = () => runAction(this.observed.store, operation, checked.data);
    const reply = READS.has(operation)
      ? await this.read(run)
      : await this.write(async () => {
          const out = await run();
          return out.status === 200 ? this.afterTableChange(operation, checked.data, streamSpec as Json | undefined, out) : out;
        });
    if (reply.status !== 200) return { reply, consumed: [] };
    const consumed = consumedOf(reply.body);
    let body = reply.body;
    if (hideCapacity && 'ConsumedCapacity' in body) {
      const { ConsumedCapacity: _hidden, ...rest } = body;
      body = rest;
    }
    if (operation === 'DescribeTable') body = { ...body, Table: this.withStream(body.Table as TableDescription) };
    return { reply: { status: 200, body }, consumed };
  }

  /** Under the writer lock, right after dynalite changed a table: the front's own view of it follows. */
  private afterTableChange(operation: string, data: Json, streamSpec: Json | undefined, reply: Reply): Reply {
    const table = data.TableName as string;
    if (operation === 'DeleteTable') {
      this.streams.disable(table);
      this.ttl.disable(table);
      this.observed.forget(table);
      this.saveState();
      return reply;
    }
    if ((operation === 'CreateTable' && streamSpec?.StreamEnabled) || (operation === 'UpdateTable' && streamSpec)) {
      const description = reply.body.TableDescription as TableDescription;
      this.setStream(table, description, streamSpec);
      return { status: 200, body: { ...reply.body, TableDescription: this.withStream(description) } };
    }
    return reply;
  }

  private setStream(table: string, description: Pick<TableDescription, 'TableArn' | 'KeySchema'>, spec: Json): Reply | undefined {
    const current = this.streams.get(table);
    if (spec.StreamEnabled) {
      if (current) return validationError(`Table already has an enabled stream: TableName: ${table}`);
      this.streams.enable(table, description.TableArn, spec.StreamViewType as StreamViewType, description.KeySchema as KeySchemaElement[]);
    } else {
      if (!current) return validationError(`Table does not have a stream enabled: TableName: ${table}`);
      this.streams.disable(table);
    }
    this.saveState();
    return undefined;
  }

  private async updateStream(tableName: unknown, spec: Json): Promise<Reply> {
    return this.write(async () => {
      const described = await execute(this.observed.store, 'DescribeTable', { TableName: tableName });
      if (described.status !== 200) return described;
      const description = described.body.Table as TableDescription;
      const refused = this.setStream(description.TableName, description, spec);
      return refused ?? { status: 200, body: { TableDescription: this.withStream(description) } };
    });
  }

  /** A table description with the stream fields DynamoDB adds (dynalite keeps none). */
  private withStream(description: TableDescription): TableDescription {
    const stream = this.streams.get(description.TableName);
    if (!stream) return description;
    return {
      ...description,
      StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType },
      LatestStreamArn: stream.arn,
      LatestStreamLabel: stream.label,
    } as TableDescription;
  }

  // ---- TTL -----------------------------------------------------------------------------------

  private async updateTimeToLive(request: Json): Promise<Reply> {
    const spec = request.TimeToLiveSpecification;
    if (!isObject(spec) || typeof spec.Enabled !== 'boolean' || typeof spec.AttributeName !== 'string' || spec.AttributeName.length < 1 || spec.AttributeName.length > 255) {
      return validationError("1 validation error detected: Value at 'timeToLiveSpecification' failed to satisfy constraint: Enabled (a boolean) and AttributeName (1 to 255 characters) are required");
    }
    const { Enabled: enabled, AttributeName: attribute } = spec as { Enabled: boolean; AttributeName: string };
    return this.write(async () => {
      const described = await execute(this.observed.store, 'DescribeTable', { TableName: request.TableName });
      if (described.status !== 200) return described;
      const table = (described.body.Table as TableDescription).TableName;
      const current = this.ttl.attributes.get(table);
      if (enabled && current) return validationError('TimeToLive is already enabled');
      if (!enabled && !current) return validationError('TimeToLive is already disabled');
      if (enabled) {
        this.ttl.enable(table, attribute);
        await this.indexTtl(table);
      } else {
        this.ttl.disable(table);
      }
      this.saveState();
      return { status: 200, body: { TimeToLiveSpecification: { Enabled: enabled, AttributeName: attribute } } };
    });
  }

  private async describeTimeToLive(request: Json): Promise<Reply> {
    const reply = await this.read(() => execute(this.observed.store, 'DescribeTimeToLive', request));
    if (reply.status !== 200) return reply;
    const attribute = this.ttl.attributes.get(request.TableName as string);
    return {
      status: 200,
      body: { TimeToLiveDescription: attribute ? { TimeToLiveStatus: 'ENABLED', AttributeName: attribute } : { TimeToLiveStatus: 'DISABLED' } },
    };
  }

  /** Reads every item of the table into the TTL index (when TTL is enabled, or at start). */
  private async indexTtl(table: string): Promise<void> {
    const keyNames = await this.observed.keyNames(table);
    if (!keyNames) return;
    for await (const [key, item] of this.observed.items(table)) this.ttl.observe(table, key, item, keyNames);
  }

  /** Deletes every item whose TTL attribute is before now, each a REMOVE record from the service. */
  async sweepTtl(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const due = this.ttl.due(this.now(), TTL_BATCH);
      if (due.length === 0) return deleted;
      deleted += await this.write(async () => {
        let n = 0;
        this.ttlDeleting = true;
        try {
          for (const item of due) {
            if (!this.ttl.isDue(item.table, item.keyString, this.now())) continue;
            this.ttl.forget(item.table, item.keyString);
            const out = await runAction(this.observed.store, 'DeleteItem', { TableName: item.table, Key: item.key, ReturnValues: 'ALL_OLD' });
            if (out.status === 200 && out.body.Attributes) n++;
          }
        } finally {
          this.ttlDeleting = false;
        }
        return n;
      });
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Waits for running operations, saves what the front keeps, and closes the store. */
  async close(): Promise<void> {
    this.streams.wakeAll();
    await this.write(async () => {
      this.saveState();
      await this.persistence?.flush();
      await this.observed.close();
    });
  }
}
