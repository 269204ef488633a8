/**
 * DynamoDB Streams for the local front: one shard per stream, records in commit order
 * with sequence numbers from one ascending counter, kept in memory (and persisted by
 * the caller for on-disk stores) and trimmed after 24 hours by the injected clock.
 * Served through the Streams API (ListStreams, DescribeStream, GetShardIterator,
 * GetRecords) so @aws-sdk/client-dynamodb-streams works unchanged.
 */
import { randomBytes } from 'node:crypto';
import { dynaliteDb, dynamoDbError, validationError, type Item, type Json, type KeySchemaElement, type Reply } from './dynalite';
import { SEQUENCE_DIGITS, type StreamSettings } from './persistence';
import { keyNamesOf, pick } from './store';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export const STREAM_VIEW_TYPES: readonly StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

/** A record as the Streams API sends it (`userIdentity` in the API's Identity shape). */
export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: Item;
    readonly NewImage?: Item;
    readonly OldImage?: Item;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly userIdentity?: { readonly Type: 'Service'; readonly PrincipalId: 'dynamodb.amazonaws.com' };
}

export interface StoredRecord {
  readonly seq: number;
  /** Epoch ms written (by the injected clock): retention runs on it. */
  readonly at: number;
  readonly record: StreamRecord;
}

interface TableStream extends StreamSettings {
  readonly table: string;
  readonly keyNames: readonly string[];
  /** Retained records are records[head..], ascending by seq. */
  records: StoredRecord[];
  head: number;
  /** Records up to this sequence number are gone (trimmed, or before the stream). */
  trimmedThrough: number;
}

export interface StreamPersistence {
  saveRecord(table: string, record: StoredRecord): void;
  dropRecords(table: string, throughSeq?: number): void;
  /** The sequence counter moved past what was saved (records trimmed). */
  sequenceChanged(): void;
}

export const RETENTION_MS = 24 * 3600 * 1000;
/** How long an empty GetRecords waits for the next record before answering (local only: it changes when, never what, it answers). */
export const GET_RECORDS_WAIT_MS = 50;
export const SHARD_ID = 'shardId-00000000000000000001-00000001';
const MAX_RECORDS = 1000;

const region = () => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const sequenceNumber = (seq: number) => String(seq).padStart(SEQUENCE_DIGITS, '0');

/** Attribute values are equal as DynamoDB compares them: map keys and set members in any order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const [type] = Object.keys(a);
  if (type === undefined || Object.keys(b).length !== 1 || !(type in b)) return false;
  const x = (a as Record<string, unknown>)[type];
  const y = (b as Record<string, unknown>)[type];
  if (type === 'M') return sameItem(x as Item, y as Item);
  if (type === 'L') return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  if (type === 'SS' || type === 'NS' || type === 'BS') {
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && [...x].sort().join('\u0000') === [...y].sort().join('\u0000');
  }
  return x === y;
}

function sameItem(a: Item, b: Item): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameValue(a[k], b[k]));
}

export class Streams {
  /** The highest sequence number handed out, across all streams. */
  sequence = 0;
  private readonly streams = new Map<string, TableStream>();
  private readonly waiting = new Set<() => void>();
  persistence?: StreamPersistence;

  constructor(private readonly now: () => number) {}

  get(table: string): TableStream | undefined {
    return this.streams.get(table);
  }

  settings(): Record<string, StreamSettings> {
    const out: Record<string, StreamSettings> = {};
    for (const s of this.streams.values()) out[s.table] = { viewType: s.viewType, label: s.label, arn: s.arn, createdAt: s.createdAt, keySchema: s.keySchema };
    return out;
  }

  /** Starts a new stream for the table (its records start empty). */
  enable(table: string, tableArn: string, viewType: StreamViewType, keySchema: readonly KeySchemaElement[]): StreamSettings {
    const createdAt = this.now();
    const label = new Date(createdAt).toISOString().replace('Z', '');
    const settings: StreamSettings = { viewType, label, arn: `${tableArn}/stream/${label}`, createdAt, keySchema };
    this.restore(table, settings, []);
    return settings;
  }

  /** Brings back a stream and its records (on-disk stores, at start). */
  restore(table: string, settings: StreamSettings, records: StoredRecord[]): void {
    const keyNames = keyNamesOf({ KeySchema: settings.keySchema });
    const first = records[0]?.seq;
    this.streams.set(table, { ...settings, table, keyNames, records, head: 0, trimmedThrough: first === undefined ? this.sequence : first - 1 });
    for (const r of records) this.sequence = Math.max(this.sequence, r.seq);
  }

  disable(table: string): void {
    if (!this.streams.delete(table)) return;
    this.persistence?.dropRecords(table);
  }

  /** The newest sequence number in the table's stream (0 when none). */
  latest(table: string): number {
    const s = this.streams.get(table);
    return s?.records.at(-1)?.seq ?? 0;
  }

  /**
   * Appends the record of one applied write to the table's stream, if it has one and
   * the write changed the item (DynamoDB writes no record for a write that changes
   * nothing). `byService` marks TTL deletes.
   */
  append(table: string, oldItem: Item | undefined, newItem: Item | undefined, byService: boolean): void {
    const stream = this.streams.get(table);
    if (!stream) return;
    if (!oldItem && !newItem) return;
    if (oldItem && newItem && sameItem(oldItem, newItem)) return;
    const at = this.now();
    this.trim(stream, at);
    const seq = ++this.sequence;
    const image = (newItem ?? oldItem) as Item;
    const keys = pick(image, stream.keyNames);
    const withNew = newItem && (stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES');
    const withOld = oldItem && (stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES');
    const record: StreamRecord = {
      eventID: randomBytes(16).toString('hex'),
      eventName: !oldItem ? 'INSERT' : newItem ? 'MODIFY' : 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: region(),
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(at / 1000),
        Keys: keys,
        ...(withNew ? { NewImage: newItem } : {}),
        ...(withOld ? { OldImage: oldItem } : {}),
        SequenceNumber: sequenceNumber(seq),
        SizeBytes: dynaliteDb.itemSize(keys) + (withNew ? dynaliteDb.itemSize(newItem) : 0) + (withOld ? dynaliteDb.itemSize(oldItem) : 0),
        StreamViewType: stream.viewType,
      },
      ...(byService ? { userIdentity: { Type: 'Service' as const, PrincipalId: 'dynamodb.amazonaws.com' as const } } : {}),
    };
    const stored: StoredRecord = { seq, at, record };
    stream.records.push(stored);
    this.persistence?.saveRecord(table, stored);
    for (const wake of this.waiting) wake();
  }

  /** Drops records older than the retention period. */
  private trim(stream: TableStream, now: number): void {
    const horizon = now - RETENTION_MS;
    let head = stream.head;
    while (head < stream.records.length && (stream.records[head] as StoredRecord).at < horizon) head++;
    if (head === stream.head) return;
    stream.trimmedThrough = (stream.records[head - 1] as StoredRecord).seq;
    stream.head = head;
    if (head > 1024 && head * 2 > stream.records.length) {
      stream.records = stream.records.slice(head);
      stream.head = 0;
    }
    this.persistence?.dropRecords(stream.table, stream.trimmedThrough);
    this.persistence?.sequenceChanged();
  }

  /** Index of the first retained record with seq > after. */
  private indexAfter(stream: TableStream, after: number): number {
    let lo = stream.head;
    let hi = stream.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((stream.records[mid] as StoredRecord).seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private byArn(arn: unknown): TableStream | undefined {
    if (typeof arn !== 'string') return undefined;
    for (const s of this.streams.values()) if (s.arn === arn) return s;
    return undefined;
  }

  /** The Streams API; an empty GetRecords first waits briefly for a record, so pollers need not spin. */
  async handle(operation: string, data: Json): Promise<Reply> {
    const first = this.answer(operation, data);
    if (operation !== 'GetRecords' || first.status !== 200 || (first.body.Records as unknown[]).length > 0) return first;
    await new Promise<void>((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, GET_RECORDS_WAIT_MS);
      this.waiting.add(wake);
    });
    return this.answer(operation, data);
  }

  /** Wakes every waiting GetRecords (closing). */
  wakeAll(): void {
    for (const wake of this.waiting) wake();
  }

  private answer(operation: string, data: Json): Reply {
    switch (operation) {
      case 'ListStreams':
        return this.listStreams(data);
      case 'DescribeStream':
        return this.describeStream(data);
      case 'GetShardIterator':
        return this.getShardIterator(data);
      case 'GetRecords':
        return this.getRecords(data);
      default:
        return { status: 400, body: { __type: 'com.amazon.coral.service#UnknownOperationException' } };
    }
  }

  private listStreams(data: Json): Reply {
    const limit = data.Limit === undefined ? 100 : Number(data.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return validationError('Limit must be between 1 and 100');
    let streams = [...this.streams.values()].filter((s) => data.TableName === undefined || s.table === data.TableName).sort((a, b) => (a.arn < b.arn ? -1 : 1));
    if (typeof data.ExclusiveStartStreamArn === 'string') streams = streams.filter((s) => s.arn > (data.ExclusiveStartStreamArn as string));
    const page = streams.slice(0, limit);
    return {
      status: 200,
      body: {
        Streams: page.map((s) => ({ StreamArn: s.arn, TableName: s.table, StreamLabel: s.label })),
        ...(streams.length > limit ? { LastEvaluatedStreamArn: page.at(-1)?.arn } : {}),
      },
    };
  }

  private describeStream(data: Json): Reply {
    const stream = this.byArn(data.StreamArn);
    if (!stream) return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Stream: ${String(data.StreamArn)} not found`);
    this.trim(stream, this.now());
    return {
      status: 200,
      body: {
        StreamDescription: {
          StreamArn: stream.arn,
          StreamLabel: stream.label,
          StreamStatus: 'ENABLED',
          StreamViewType: stream.viewType,
          CreationRequestDateTime: stream.createdAt / 1000,
          TableName: stream.table,
          KeySchema: stream.keySchema,
          Shards: [{ ShardId: SHARD_ID, SequenceNumberRange: { StartingSequenceNumber: sequenceNumber(stream.trimmedThrough + 1) } }],
        },
      },
    };
  }

  private getShardIterator(data: Json): Reply {
    const stream = this.byArn(data.StreamArn);
    if (!stream) return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Stream: ${String(data.StreamArn)} not found`);
    if (data.ShardId !== SHARD_ID) return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Shard does not exist: ${String(data.ShardId)}`);
    this.trim(stream, this.now());
    const type = data.ShardIteratorType;
    let after: number;
    if (type === 'TRIM_HORIZON') after = stream.trimmedThrough;
    else if (type === 'LATEST') after = this.sequence;
    else if (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') {
      if (typeof data.SequenceNumber !== 'string' || !/^\d{1,40}$/.test(data.SequenceNumber)) {
        return validationError(`Invalid SequenceNumber for ShardIteratorType ${type}: ${String(data.SequenceNumber)}`);
      }
      const seq = Number(data.SequenceNumber);
      if (seq <= stream.trimmedThrough) {
        return dynamoDbError('TrimmedDataAccessException', `Sequence number ${data.SequenceNumber} is beyond the trim horizon of the shard`);
      }
      after = type === 'AT_SEQUENCE_NUMBER' ? seq - 1 : seq;
    } else {
      return validationError(`1 validation error detected: Value '${String(type)}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]`);
    }
    return { status: 200, body: { ShardIterator: encodeIterator(stream.arn, after) } };
  }

  private getRecords(data: Json): Reply {
    const iterator = decodeIterator(data.ShardIterator);
    if (!iterator) return validationError('Invalid ShardIterator');
    const stream = this.byArn(iterator.arn);
    if (!stream) return dynamoDbError('ResourceNotFoundException', `Requested resource not found: Stream: ${iterator.arn} not found`);
    const limit = data.Limit === undefined ? MAX_RECORDS : Number(data.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECORDS) return validationError(`Limit must be between 1 and ${MAX_RECORDS}`);
    this.trim(stream, this.now());
    if (iterator.after < stream.trimmedThrough) {
      return dynamoDbError('TrimmedDataAccessException', 'The records the iterator points at are beyond the trim horizon of the shard');
    }
    const start = this.indexAfter(stream, iterator.after);
    const page = stream.records.slice(start, start + limit);
    const last = page.at(-1)?.seq ?? iterator.after;
    return { status: 200, body: { Records: page.map((r) => r.record), NextShardIterator: encodeIterator(stream.arn, last) } };
  }
}

function encodeIterator(arn: string, after: number): string {
  return Buffer.from(JSON.stringify({ arn, after })).toString('base64url');
}

function decodeIterator(value: unknown): { arn: string; after: number } | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { arn?: unknown; after?: unknown };
    return typeof parsed.arn === 'string' && typeof parsed.after === 'number' ? { arn: parsed.arn, after: parsed.after } : undefined;
  } catch {
    return undefined;
  }
}
