/**
 * The one sequence allocator of every stream (channel, topic, conversation). A stream's
 * head item in the catalog table is its counter: `head_seq`, `head_change_seq`,
 * `last_created_at`. Each change commits in ONE transaction with the counter advanced
 * under a condition on the values it was read with, so a seq is never reused nor
 * skipped and change_seq stays gapless; there is no MAX(seq)+1 and no counter write
 * outside the transaction. A lost race re-reads the counter and tries again with
 * jittered backoff for about 5 s, then answers 429.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../clients/dynamodb';
import { nowIso } from '../clock';
import { config } from '../config';
import { NotFoundError, RateLimitedError } from '../errors';
import type { EntryItem } from './entry';

/** The head (counter) item of a stream in the catalog table. */
export interface HeadKey {
  readonly pk: string;
  readonly sk: string;
}

/** The counter fields of a head item, as last read. */
export interface HeadCounters {
  readonly head_seq: number;
  readonly head_change_seq: number;
  readonly last_created_at?: string;
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** An extra item committed with the change; its failed condition is reported by `tag`. */
export interface GuardItem {
  readonly tag: string;
  readonly item: TransactItem;
}

/** One of the caller's guard items failed its condition: the change did not commit. */
export class GuardFailedError extends Error {
  override readonly name = 'GuardFailedError';
  constructor(readonly tag: string) {
    super(`transaction guard ${tag} failed its condition`);
  }
}

/** Where a new entry lands. */
export interface Position {
  readonly seq: number;
  readonly change_seq: number;
  /** max(now, the stream's last created_at): never decreases along seq. */
  readonly created_at: string;
}

interface CommonInput {
  readonly head: HeadKey;
  /** `channel:<id>` etc.: the entries table's partition. */
  readonly stream: string;
  /** The counter as the caller read it (with the stream's metadata, in one read). */
  readonly counters: HeadCounters;
  /** Items committed in the same transaction, built from the entry about to be written. */
  readonly guards?: (entry: EntryItem) => readonly GuardItem[];
  /** Attributes set on the head item by the same update (e.g. a topic's last activity). */
  readonly headSet?: (entry: EntryItem) => Readonly<Record<string, unknown>>;
}

export interface AppendInput extends CommonInput {
  /** The new entry at its position; called again with a new position after a lost race. */
  readonly build: (position: Position) => EntryItem;
}

export interface ChangeInput extends CommonInput {
  /** The entry as the caller read it (strongly consistent). */
  readonly current: EntryItem;
  /**
   * The entry's next state (rev + 1, the given change_seq) from its latest state, or
   * undefined when nothing changes; called again with fresh state after a lost race.
   */
  readonly change: (current: EntryItem, next: { readonly change_seq: number; readonly changed_at: string }) => EntryItem | undefined;
}

export interface ChangeResult {
  readonly entry: EntryItem;
  /** False when `change` found nothing to do: nothing was written. */
  readonly changed: boolean;
}

/**
 * How long a writer keeps trying against a contended counter, and how it backs off:
 * full jitter, doubling to 1 s, so tens of writers on one counter spread out instead of
 * queueing on it.
 */
export const RETRY = { budgetMs: 5_000, baseDelayMs: 20, maxDelayMs: 1_000, retryAfterSeconds: 1 } as const;

const ENTRY_POINTER_SK = 'entry';

/** The catalog key of an entry's id → position pointer. */
export function entryPointerKey(entryId: string): HeadKey {
  return { pk: `entry#${entryId}`, sk: ENTRY_POINTER_SK };
}

/** The pointer item stored with every entry: id → (stream, seq). */
export interface EntryPointer {
  readonly stream: string;
  readonly seq: number;
}

/** Appends one entry at head_seq + 1 with change_seq head_change_seq + 1, with its id pointer and the guards. */
export async function appendEntry(input: AppendInput): Promise<EntryItem> {
  return withCounterRetry(input, async (counters) => {
    const position: Position = {
      seq: counters.head_seq + 1,
      change_seq: counters.head_change_seq + 1,
      created_at: notBefore(nowIso(), counters.last_created_at),
    };
    const entry = input.build(position);
    if (entry.seq !== position.seq || entry.change_seq !== position.change_seq || entry.stream !== input.stream) {
      throw new Error('build must place the entry at the allocated position');
    }
    const items: TransactItem[] = [
      headUpdate(input, counters, { head_seq: entry.seq, head_change_seq: entry.change_seq, last_created_at: entry.created_at }, entry),
      {
        Put: {
          TableName: config.TABLE_ENTRIES,
          Item: entry,
          ConditionExpression: 'attribute_not_exists(seq)',
        },
      },
      {
        Put: {
          TableName: config.TABLE_CATALOG,
          Item: { ...entryPointerKey(entry.id), stream: entry.stream, seq: entry.seq } satisfies HeadKey & EntryPointer,
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    await commit(items, input.guards?.(entry) ?? []);
    return entry;
  });
}

/** Rewrites one entry (edit, tombstone) with rev + 1 and change_seq head_change_seq + 1. */
export async function changeEntry(input: ChangeInput): Promise<ChangeResult> {
  let current = input.current;
  let fresh = true;
  return withCounterRetry(input, async (counters) => {
    if (!fresh) current = await readEntry(input.stream, current.seq);
    fresh = false;
    const next = input.change(current, { change_seq: counters.head_change_seq + 1, changed_at: nowIso() });
    if (next === undefined) return { entry: current, changed: false };
    if (next.rev !== current.rev + 1 || next.change_seq !== counters.head_change_seq + 1 || next.seq !== current.seq || next.stream !== current.stream || next.id !== current.id) {
      throw new Error('change must keep the position and advance rev and change_seq by one');
    }
    const items: TransactItem[] = [
      headUpdate(input, counters, { head_change_seq: next.change_seq }, next),
      {
        Put: {
          TableName: config.TABLE_ENTRIES,
          Item: next,
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':rev': current.rev },
        },
      },
    ];
    await commit(items, input.guards?.(next) ?? []);
    return { entry: next, changed: true };
  });
}

/** The later of two ISO times (both written by the layer: same format). */
function notBefore(candidate: string, floor: string | undefined): string {
  return floor !== undefined && Date.parse(floor) > Date.parse(candidate) ? floor : candidate;
}

/** The counter update: SET the new values (and the caller's), conditioned on the values read. */
function headUpdate(
  input: CommonInput,
  counters: HeadCounters,
  values: Readonly<Record<string, unknown>>,
  entry: EntryItem,
): TransactItem {
  const sets = { ...input.headSet?.(entry), ...values };
  const names: Record<string, string> = {};
  const vals: Record<string, unknown> = {};
  const clauses = Object.entries(sets).map(([name, value], i) => {
    names[`#s${i}`] = name;
    vals[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  names['#hs'] = 'head_seq';
  names['#hc'] = 'head_change_seq';
  vals[':hs'] = counters.head_seq;
  vals[':hc'] = counters.head_change_seq;
  // A head created without counters counts as (0, 0); the update must never create a head.
  const isZero = (attr: string, value: string, n: number) => (n === 0 ? `(attribute_not_exists(${attr}) OR ${attr} = ${value})` : `${attr} = ${value}`);
  return {
    Update: {
      TableName: config.TABLE_CATALOG,
      Key: { pk: input.head.pk, sk: input.head.sk },
      UpdateExpression: `SET ${clauses.join(', ')}`,
      ConditionExpression: `attribute_exists(pk) AND ${isZero('#hs', ':hs', counters.head_seq)} AND ${isZero('#hc', ':hc', counters.head_change_seq)}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: vals,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}


/** A lost race: the counter (or the entry) moved since it was read. */
class RaceLostError extends Error {
  override readonly name = 'RaceLostError';
  constructor(readonly counters?: HeadCounters) {
    super('counter moved');
  }
}

async function withCounterRetry<T>(input: CommonInput, attempt: (counters: HeadCounters) => Promise<T>): Promise<T> {
  const started = performance.now();
  let counters = input.counters;
  for (let round = 0; ; round += 1) {
    try {
      return await attempt(counters);
    } catch (error) {
      if (!(error instanceof RaceLostError)) throw error;
      const delay = Math.random() * Math.min(RETRY.maxDelayMs, RETRY.baseDelayMs * 2 ** round);
      if (performance.now() - started + delay > RETRY.budgetMs) throw new RateLimitedError(RETRY.retryAfterSeconds);
      await new Promise((resolve) => setTimeout(resolve, delay));
      counters = error.counters ?? (await readCounters(input.head));
    }
  }
}

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/** Runs the transaction: items first (head at 0), then guards; maps cancellations. */
async function commit(items: TransactItem[], guards: readonly GuardItem[]): Promise<void> {
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: [...items, ...guards.map((g) => g.item)] }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TransactionConflictException') throw new RaceLostError();
    if (name !== 'TransactionCanceledException') throw error;
    const reasons = ((error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) as CancellationReason[];
    // A guard's verdict (e.g. the idempotency key is taken) wins over a counter race:
    // retrying could not make it pass.
    const guardFailed = guards.findIndex((_, i) => reasons[items.length + i]?.Code === 'ConditionalCheckFailed');
    if (guardFailed >= 0) throw new GuardFailedError((guards[guardFailed] as GuardItem).tag);
    const head = reasons[0];
    if (head?.Code === 'ConditionalCheckFailed') throw new RaceLostError(countersFromImage(head.Item));
    if (reasons[1]?.Code === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict')) throw new RaceLostError();
    throw error;
  }
}

/** The counters from a cancellation's old image; undefined when absent (the head is then re-read). */
function countersFromImage(image: Record<string, AttributeValue> | undefined): HeadCounters | undefined {
  if (!image?.pk) return undefined;
  return {
    head_seq: Number(image.head_seq?.N ?? 0),
    head_change_seq: Number(image.head_change_seq?.N ?? 0),
    ...(image.last_created_at?.S ? { last_created_at: image.last_created_at.S } : {}),
  };
}

async function readCounters(head: HeadKey): Promise<HeadCounters> {
  const { Item } = await ddb.send(
    new GetCommand({
      TableName: config.TABLE_CATALOG,
      Key: { pk: head.pk, sk: head.sk },
      ConsistentRead: true,
      ProjectionExpression: 'head_seq, head_change_seq, last_created_at',
    }),
  );
  if (!Item) throw new NotFoundError('The stream does not exist.');
  return {
    head_seq: Number(Item.head_seq ?? 0),
    head_change_seq: Number(Item.head_change_seq ?? 0),
    ...(typeof Item.last_created_at === 'string' ? { last_created_at: Item.last_created_at } : {}),
  };
}

/** One entry by position, strongly consistent. */
async function readEntry(stream: string, seq: number): Promise<EntryItem> {
  const { Item } = await ddb.send(new GetCommand({ TableName: config.TABLE_ENTRIES, Key: { stream, seq }, ConsistentRead: true }));
  if (!Item) throw new NotFoundError('The entry does not exist.');
  return Item as EntryItem;
}
