/**
 * Read windows (times) → seq ranges of one stream. created_at never decreases along seq
 * (the allocator guarantees it), so a window [start, end] is exactly the seq range
 * [first seq with created_at ≥ start, last seq with created_at ≤ end], found with one
 * small Query per edge on the LSI `by_created_at`. An edge before the head's
 * last_created_at never moves again (later entries are created at or after it), so its
 * seq is kept in this process's memory; an edge at or after it is looked up each time.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ReadWindow } from '../access/decision';
import { ddb } from '../clients/dynamodb';
import { config } from '../config';
import { AccessProviderUnavailableError } from '../errors';
import { ENTRIES_BY_CREATED_AT } from '../spec/tables';

/** Inclusive seq bounds, lo ≤ hi. */
export interface SeqRange {
  readonly lo: number;
  readonly hi: number;
}

/** What a stream's head tells about its entries: seqs 1..head_seq exist; the last was created at last_created_at. */
export interface StreamHead {
  readonly head_seq: number;
  readonly last_created_at?: string;
}

type EdgeKind = 'start' | 'end';

/** Edges kept per process; the oldest goes first when full (edges differ per subscriber). */
const EDGE_CACHE_LIMIT = 10_000;
const edgeSeqs = new Map<string, number>();

function cached(key: string): number | undefined {
  const seq = edgeSeqs.get(key);
  if (seq !== undefined) {
    // Most recently used last: eviction takes the first key.
    edgeSeqs.delete(key);
    edgeSeqs.set(key, seq);
  }
  return seq;
}

function remember(key: string, seq: number): void {
  edgeSeqs.set(key, seq);
  if (edgeSeqs.size > EDGE_CACHE_LIMIT) edgeSeqs.delete(edgeSeqs.keys().next().value as string);
}

/**
 * An edge in the layer's own created_at format (ISO-8601 UTC with milliseconds), so it
 * compares with stored values as a string; parsed as `windowsContain` parses it, so every
 * door draws the edge at the same instant. An unreadable edge is a malformed decision:
 * fail closed.
 */
function normalizeEdge(edge: string): string {
  const t = Date.parse(edge);
  if (Number.isNaN(t)) throw new AccessProviderUnavailableError(`unreadable read-window edge ${JSON.stringify(edge)}`);
  return new Date(t).toISOString();
}

/**
 * Index keys read per edge Query. Entries created in the same millisecond share a
 * created_at, and an index does not order equal sort keys by seq (dynalite orders them by
 * a hash), so the edge is the lowest (start) or highest (end) seq among the first
 * created_at found. A few dozen keys cost the same read unit as one.
 */
const EDGE_PROBE = 25;

interface EdgeKeys {
  readonly seq: number;
  readonly created_at: string;
}

/**
 * The first seq created at or after `edge` ('start') or the last created at or before it
 * ('end'), by strongly consistent Queries on `by_created_at` (one unless more than
 * EDGE_PROBE entries share the boundary's created_at); undefined when there is none.
 */
async function seqAtEdge(stream: string, kind: EdgeKind, edge: string): Promise<number | undefined> {
  const pick = kind === 'start' ? Math.min : Math.max;
  let boundary: string | undefined;
  let seq: number | undefined;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: config.TABLE_ENTRIES,
        IndexName: ENTRIES_BY_CREATED_AT,
        KeyConditionExpression: `#stream = :stream AND created_at ${kind === 'start' ? '>=' : '<='} :edge`,
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream, ':edge': edge },
        ConsistentRead: true,
        ScanIndexForward: kind === 'start',
        Limit: EDGE_PROBE,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const keys of (page.Items ?? []) as EdgeKeys[]) {
      boundary ??= keys.created_at;
      if (keys.created_at !== boundary) return seq;
      seq = seq === undefined ? keys.seq : pick(seq, keys.seq);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return seq;
}

/**
 * The first seq created at or after `start` (`head_seq + 1` when none is), or the last
 * seq created at or before `end` (0 when none is); `edge` is normalized. Edges past the
 * head's last_created_at are settled by the caller without reading.
 */
async function edgeSeq(stream: string, head: StreamHead, kind: EdgeKind, edge: string): Promise<number> {
  const key = `${stream}\u0000${kind}\u0000${edge}`;
  const hit = cached(key);
  if (hit !== undefined) return hit;
  const found = await seqAtEdge(stream, kind, edge);
  const seq = found ?? (kind === 'start' ? head.head_seq + 1 : 0);
  // Later entries are created at or after last_created_at: an edge before it is final.
  if (head.last_created_at !== undefined && edge < head.last_created_at) remember(key, seq);
  return seq;
}

/** One window's seq range within 1..head_seq (head_seq ≥ 1); undefined when it holds no entry. */
async function rangeOf(stream: string, head: StreamHead, window: ReadWindow): Promise<SeqRange | undefined> {
  const last = head.last_created_at;
  const start = window.start === undefined ? undefined : normalizeEdge(window.start);
  const end = window.end === undefined ? undefined : normalizeEdge(window.end);
  if (start !== undefined && ((last !== undefined && start > last) || (end !== undefined && start > end))) return undefined;
  const [lo, hi] = await Promise.all([
    start === undefined ? 1 : edgeSeq(stream, head, 'start', start),
    end === undefined || (last !== undefined && end >= last) ? head.head_seq : edgeSeq(stream, head, 'end', end),
  ]);
  // Entries appended after the head was read stay out: the page must agree with head_seq.
  const top = Math.min(hi, head.head_seq);
  return lo <= top ? { lo, hi: top } : undefined;
}

/** Sorted, overlapping or touching ranges joined (touching ranges have no hidden seq between them). */
export function mergeRanges(ranges: readonly SeqRange[]): SeqRange[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo);
  const merged: SeqRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous && range.lo <= previous.hi + 1) merged[merged.length - 1] = { lo: previous.lo, hi: Math.max(previous.hi, range.hi) };
    else merged.push(range);
  }
  return merged;
}

/**
 * The seq ranges a reader with `windows` may read, ascending and disjoint, each holding
 * at least one entry. `windows` undefined: the whole stream; empty: nothing.
 */
export async function seqRangesFor(
  stream: string,
  head: StreamHead,
  windows: readonly ReadWindow[] | undefined,
): Promise<SeqRange[]> {
  if (head.head_seq < 1) return [];
  if (windows === undefined) return [{ lo: 1, hi: head.head_seq }];
  const ranges = await Promise.all(windows.map((window) => rangeOf(stream, head, window)));
  return mergeRanges(ranges.filter((r): r is SeqRange => r !== undefined));
}
