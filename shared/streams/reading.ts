/**
 * History pages of any stream (channel, topic, conversation) by seq, inside the reader's
 * windows. The windows become seq ranges (./windows); a page lies inside ONE range and
 * is ONE strongly consistent Query `seq BETWEEN from AND to`. Seqs are gapless, so a
 * range's size is known without reading: hidden ranges are skipped for free, a page is
 * short only at a range's end, never empty while readable entries remain, and has_more
 * is exact. Also the id → entry lookup (through the id pointer).
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ReadWindow } from '../access/decision';
import { ddb } from '../clients/dynamodb';
import { config } from '../config';
import { entryPointerKey, type EntryPointer } from './allocator';
import type { EntryItem } from './entry';
import { seqRangesFor, type SeqRange, type StreamHead } from './windows';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** Where a page starts: after a seq (ascending), before a seq (descending), or the newest entries (descending). */
export type PageRequest = { readonly limit: number } & (
  | { readonly after_seq: number; readonly before_seq?: never }
  | { readonly before_seq: number; readonly after_seq?: never }
  | { readonly after_seq?: never; readonly before_seq?: never }
);

export interface EntriesPage {
  /** In the page's direction: ascending after a seq, descending otherwise. */
  readonly entries: EntryItem[];
  /** Whether a readable entry lies beyond the page in its direction. */
  readonly has_more: boolean;
}

/** The one Query a page costs: inclusive seq bounds and direction. */
export interface PagePlan {
  readonly from: number;
  readonly to: number;
  readonly ascending: boolean;
}

/** A query-string integer ≥ 0 (a seq or change_seq cursor). */
export const seqParamSchema = z
  .string()
  .regex(/^\d{1,16}$/, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');

/** A query-string page size, 1..100, 20 when absent. */
export const limitParamSchema = z
  .string()
  .regex(/^\d{1,3}$/, `must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_PAGE_LIMIT, `must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .optional()
  .transform((n) => n ?? DEFAULT_PAGE_LIMIT);

/** `?after_seq=N&limit=L` | `?before_seq=N&limit=L` | `?limit=L`; both cursors or any other parameter: 400. */
export const pageQuerySchema = z
  .strictObject({ after_seq: seqParamSchema.optional(), before_seq: seqParamSchema.optional(), limit: limitParamSchema })
  .refine((q) => q.after_seq === undefined || q.before_seq === undefined, {
    path: ['before_seq'],
    message: 'cannot be combined with after_seq',
  })
  .transform(({ after_seq, before_seq, limit }): PageRequest => {
    if (after_seq !== undefined) return { after_seq, limit };
    if (before_seq !== undefined) return { before_seq, limit };
    return { limit };
  });

/** `?after_change_seq=N&limit=L` (N defaults to 0: everything); any other parameter: 400. */
export const changesQuerySchema = z.strictObject({
  after_change_seq: seqParamSchema.optional().transform((n) => n ?? 0),
  limit: limitParamSchema,
});

/**
 * The page's Query inside ascending disjoint `ranges`: from the first readable seq after
 * `after_seq` up to `limit` of them without leaving its range, or the same backwards from
 * before `before_seq` (the newest readable seq when neither is given). Undefined when
 * nothing readable lies that way.
 */
export function planPage(ranges: readonly SeqRange[], request: PageRequest): PagePlan | undefined {
  if (request.after_seq !== undefined) {
    const after = request.after_seq;
    const range = ranges.find((r) => r.hi > after);
    if (!range) return undefined;
    const from = Math.max(range.lo, after + 1);
    return { from, to: Math.min(range.hi, from + request.limit - 1), ascending: true };
  }
  const before = request.before_seq ?? Number.POSITIVE_INFINITY;
  const range = ranges.findLast((r) => r.lo < before);
  if (!range) return undefined;
  const to = Math.min(range.hi, before - 1);
  return { from: Math.max(range.lo, to - request.limit + 1), to, ascending: false };
}

/** Whether a readable seq lies beyond `lastSeq` in the page's direction. */
export function hasMoreBeyond(ranges: readonly SeqRange[], ascending: boolean, lastSeq: number): boolean {
  return ascending ? ranges.some((r) => r.hi > lastSeq) : ranges.some((r) => r.lo < lastSeq);
}

/** The plan's entries: one strongly consistent Query (a 1 MB cut leaves a shorter, still exact, page). */
async function queryPlan(stream: string, plan: PagePlan): Promise<EntryItem[]> {
  const { Items } = await ddb.send(
    new QueryCommand({
      TableName: config.TABLE_ENTRIES,
      KeyConditionExpression: '#stream = :stream AND seq BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#stream': 'stream' },
      ExpressionAttributeValues: { ':stream': stream, ':from': plan.from, ':to': plan.to },
      ConsistentRead: true,
      ScanIndexForward: plan.ascending,
      Limit: plan.to - plan.from + 1,
    }),
  );
  return (Items ?? []) as EntryItem[];
}

/**
 * One page of `stream` as of `head` (read strongly consistently by the caller), inside
 * `windows` (undefined: the whole stream). Tombstones are entries: they keep their seq
 * and appear as they are.
 */
export async function pageEntries(
  stream: string,
  head: StreamHead,
  request: PageRequest,
  windows: readonly ReadWindow[] | undefined,
): Promise<EntriesPage> {
  const ranges = await seqRangesFor(stream, head, windows);
  const plan = planPage(ranges, request);
  if (!plan) return { entries: [], has_more: false };
  const entries = await queryPlan(stream, plan);
  const last = entries.at(-1)?.seq ?? (plan.ascending ? plan.to : plan.from);
  return { entries, has_more: hasMoreBeyond(ranges, plan.ascending, last) };
}

/** The entry an id points to in `stream`; undefined when there is none (or it lives in another stream). */
export async function getEntryById(stream: string, id: string): Promise<EntryItem | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: config.TABLE_CATALOG, Key: entryPointerKey(id), ConsistentRead: true }));
  const pointer = Item as EntryPointer | undefined;
  if (!pointer || pointer.stream !== stream) return undefined;
  const { Item: entry } = await ddb.send(
    new GetCommand({ TableName: config.TABLE_ENTRIES, Key: { stream, seq: pointer.seq }, ConsistentRead: true }),
  );
  return entry as EntryItem | undefined;
}
