/**
 * DynamoDB Streams for the local front: one shard per table, records in commit order,
 * served through the Streams API (ListStreams, DescribeStream, GetShardIterator,
 * GetRecords) so @aws-sdk/client-dynamodb-streams works unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { Json } from './backend';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
export type Item = Record<string, Record<string, unknown>>;

export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: Json;
  /** The Streams API's Identity shape (Lambda events spell it type / principalId). */
  readonly userIdentity?: { Type: 'Service'; PrincipalId: 'dynamodb.amazonaws.com' };
}

export interface TableStream {
  readonly table: string;
  readonly viewType: StreamViewType;
  readonly label: string;
  readonly arn: string;
  readonly keyNames: readonly string[];
  /** [epoch ms written, record] in commit order. */
  readonly records: [number, StreamRecord][];
}

export const RETENTION_MS = 24 * 3600 * 1000;
const SHARD_ID = 'shardId-00000000000000000001-local';
const REGION = 'us-east-1';

export function streamArn(table: string, label: string): string {
  return `arn:aws:dynamodb:${REGION}:000000000000:table/${table}/stream/${label}`;
}

function pick(item: Item, names: readonly string[]): Item {
  return Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n] as Record<string, unknown>]));
}

function sameItem(a: Item | undefined, b: Item | undefined): boolean {
  if (!a || !b) return a === b;
  const canonical = (item: Item) => JSON.stringify(Object.keys(item).sort().map((k) => [k, item[k]]));
  return canonical(a) === canonical(b);
}

/** How long an empty GetRecords waits for a record before answering (a local-only courtesy: it never changes what is returned). */
export const GET_RECORDS_WAIT_MS = 50;

export class StreamStore {
  private sequence = 0;
  readonly tables = new Map<string, TableStream>();
  private readonly appended = new Set<() => void>();

  constructor(private readonly now: () => number) {}

  enable(table: string, viewType: StreamViewType, keyNames: readonly string[], label = new Date(this.now()).toISOString().replace('Z', '')): TableStream {
    const stream: TableStream = { table, viewType, label, arn: streamArn(table, label), keyNames, records: [] };
    this.tables.set(table, stream);
    return stream;
  }

  /** Restores persisted records (on-disk stores). */
  restore(table: string, records: [number, StreamRecord][]): void {
    const stream = this.tables.get(table);
    if (!stream) return;
    stream.records.push(...records);
    for (const [, r] of records) this.sequence = Math.max(this.sequence, Number((r.dynamodb as { SequenceNumber: string }).SequenceNumber));
  }

  /**
   * Appends the record for one applied write; none when the write changed nothing
   * (as AWS does). Returns the record so callers may persist it.
   */
  append(table: string, oldItem: Item | undefined, newItem: Item | undefined, byTtl = false): StreamRecord | undefined {
    const stream = this.tables.get(table);
    if (!stream || sameItem(oldItem, newItem)) return undefined;
    const eventName = !oldItem ? 'INSERT' : newItem ? 'MODIFY' : 'REMOVE';
    const image = (newItem ?? oldItem) as Item;
    const at = this.now();
    const dynamodb: Json = {
      ApproximateCreationDateTime: Math.floor(at / 1000),
      Keys: pick(image, stream.keyNames),
      SequenceNumber: String(++this.sequence).padStart(21, '0'),
      SizeBytes: JSON.stringify(image).length,
      StreamViewType: stream.viewType,
    };
    if (newItem && (stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES')) dynamodb.NewImage = newItem;
    if (oldItem && (stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES')) dynamodb.OldImage = oldItem;
    const record: StreamRecord = {
      eventID: randomUUID().replace(/-/g, ''),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb,
      ...(byTtl ? { userIdentity: { Type: 'Service' as const, PrincipalId: 'dynamodb.amazonaws.com' as const } } : {}),
    };
    stream.records.push([at, record]);
    this.trim(stream);
    for (const wake of this.appended) wake();
    return record;
  }

  private trim(stream: TableStream): void {
    const horizon = this.now() - RETENTION_MS;
    let drop = 0;
    while (drop < stream.records.length && (stream.records[drop] as [number, StreamRecord])[0] < horizon) drop++;
    if (drop > 0) stream.records.splice(0, drop);
  }

  private byArn(arn: unknown): TableStream | undefined {
    for (const s of this.tables.values()) if (s.arn === arn) return s;
    return undefined;
  }

  /**
   * The Streams API. An empty GetRecords waits briefly for the next record so a poller
   * learns of it at once without spinning; what it returns is what AWS would.
   */
  async handleWaiting(operation: string, data: Json): Promise<{ status: number; body: Json }> {
    const first = this.handle(operation, data);
    if (operation !== 'GetRecords' || first.status !== 200 || (first.body.Records as unknown[]).length > 0) return first;
    await new Promise<void>((resolve) => {
      const wake = () => {
        this.appended.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, GET_RECORDS_WAIT_MS);
      this.appended.add(wake);
    });
    return this.handle(operation, data);
  }

  /** The Streams API, answered from what is stored now. */
  handle(operation: string, data: Json): { status: number; body: Json } {
    const notFound = (what: string) => ({
      status: 400,
      body: { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: `Requested resource not found: ${what}` },
    });
    switch (operation) {
      case 'ListStreams': {
        const streams = [...this.tables.values()]
          .filter((s) => !data.TableName || s.table === data.TableName)
          .map((s) => ({ StreamArn: s.arn, StreamLabel: s.label, TableName: s.table }));
        return { status: 200, body: { Streams: streams } };
      }
      case 'DescribeStream': {
        const s = this.byArn(data.StreamArn);
        if (!s) return notFound(`Stream: ${String(data.StreamArn)} not found`);
        const first = s.records[0]?.[1].dynamodb.SequenceNumber ?? '00000000000000000000001';
        return {
          status: 200,
          body: {
            StreamDescription: {
              StreamArn: s.arn,
              StreamLabel: s.label,
              StreamStatus: 'ENABLED',
              StreamViewType: s.viewType,
              TableName: s.table,
              CreationRequestDateTime: Date.parse(`${s.label}Z`) / 1000 || 0,
              KeySchema: s.keyNames.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
              Shards: [{ ShardId: SHARD_ID, SequenceNumberRange: { StartingSequenceNumber: first } }],
            },
          },
        };
      }
      case 'GetShardIterator': {
        const s = this.byArn(data.StreamArn);
        if (!s || data.ShardId !== SHARD_ID) return notFound(`Shard ${String(data.ShardId)}`);
        const type = data.ShardIteratorType;
        const seq = Number(data.SequenceNumber ?? 0);
        let position: number;
        if (type === 'TRIM_HORIZON') position = 0;
        else if (type === 'LATEST') position = this.sequence;
        else if (type === 'AT_SEQUENCE_NUMBER') position = seq - 1;
        else if (type === 'AFTER_SEQUENCE_NUMBER') position = seq;
        else {
          return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message: `Invalid ShardIteratorType: ${String(type)}` } };
        }
        return { status: 200, body: { ShardIterator: encodeIterator(s.arn, position) } };
      }
      case 'GetRecords': {
        const iterator = decodeIterator(data.ShardIterator);
        const s = iterator && this.byArn(iterator.arn);
        if (!iterator || !s) {
          return { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ExpiredIteratorException', message: 'Iterator expired' } };
        }
        const limit = Math.min(Number(data.Limit ?? 1000), 1000);
        const out: StreamRecord[] = [];
        let last = iterator.after;
        for (const [, record] of s.records) {
          const n = Number(record.dynamodb.SequenceNumber);
          if (n <= iterator.after) continue;
          if (out.length >= limit) break;
          out.push(record);
          last = n;
        }
        return { status: 200, body: { Records: out, NextShardIterator: encodeIterator(s.arn, last) } };
      }
      default:
        return { status: 400, body: { __type: 'com.amazon.coral.service#UnknownOperationException' } };
    }
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
