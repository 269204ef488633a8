import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import fixture from '../../../shared/fixtures/read-windows.json';
import { windowsContain, type ReadWindow } from '../../shared/access/decision';
import { ddb } from '../../shared/clients/dynamodb';
import { AccessProviderUnavailableError } from '../../shared/errors';
import { ENTRIES_BY_CREATED_AT } from '../../shared/spec/tables';
import type { EntryItem } from '../../shared/streams/entry';
import { pageEntries, type PageRequest } from '../../shared/streams/reading';
import { seqRangesFor, type SeqRange, type StreamHead } from '../../shared/streams/windows';

const ddbMock = mockClient(ddb);
const DAY = 24 * 60 * 60 * 1000;

/**
 * A stand-in for the entries table: base-table Queries by seq and `by_created_at` Queries
 * by created_at. Entries sharing a created_at come back in the least helpful order
 * (highest seq first when ascending), as an index may return them in any order.
 */
class FakeEntries {
  readonly entries: EntryItem[] = [];
  /** Items one Query may return at most (a stand-in for the 1 MB cut). */
  maxItemsPerQuery = Number.POSITIVE_INFINITY;

  constructor(readonly stream: string) {}

  append(createdAt: string, overrides: Partial<EntryItem> = {}): EntryItem {
    const seq = this.entries.length + 1;
    const entry: EntryItem = {
      stream: this.stream,
      seq,
      id: `01JP0ST${String(seq).padStart(19, '0')}`,
      kind: 'post',
      rev: 1,
      change_seq: seq,
      author_id: 'admin-1',
      body_text: `post ${seq}`,
      attachments: [],
      is_deleted: false,
      created_at: createdAt,
      ...overrides,
    };
    this.entries.push(entry);
    return entry;
  }

  get head(): StreamHead {
    const last = this.entries.at(-1);
    return { head_seq: this.entries.length, ...(last ? { last_created_at: last.created_at } : {}) };
  }

  query(input: QueryCommandInput): { Items: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } {
    const values = input.ExpressionAttributeValues ?? {};
    if (values[':stream'] !== this.stream) return { Items: [] };
    const ascending = input.ScanIndexForward !== false;
    let rows: EntryItem[];
    if (input.IndexName === ENTRIES_BY_CREATED_AT) {
      const edge = values[':edge'] as string;
      const atOrAfter = (input.KeyConditionExpression ?? '').includes('>=');
      rows = this.entries
        .filter((e) => (atOrAfter ? e.created_at >= edge : e.created_at <= edge))
        .sort((a, b) => (a.created_at === b.created_at ? b.seq - a.seq : a.created_at < b.created_at ? -1 : 1));
    } else {
      const from = values[':from'] as number;
      const to = values[':to'] as number;
      rows = this.entries.filter((e) => e.seq >= from && e.seq <= to);
    }
    if (!ascending) rows.reverse();
    const start = input.ExclusiveStartKey ? rows.findIndex((e) => e.seq === input.ExclusiveStartKey?.seq) + 1 : 0;
    const count = Math.min(input.Limit ?? Number.POSITIVE_INFINITY, this.maxItemsPerQuery);
    const page = rows.slice(start, start + count);
    const more = start + count < rows.length;
    const keysOnly = input.IndexName === ENTRIES_BY_CREATED_AT;
    return {
      Items: page.map((e) => (keysOnly ? { stream: e.stream, seq: e.seq, created_at: e.created_at } : { ...e })),
      ...(more && page.length > 0 ? { LastEvaluatedKey: { stream: this.stream, seq: (page.at(-1) as EntryItem).seq } } : {}),
    };
  }
}

let streams = 0;
/** A new stream per test: the edge cache outlives tests, as it outlives requests. */
function fakeStream(): FakeEntries {
  streams += 1;
  const fake = new FakeEntries(`channel:01JSTREAM${String(streams).padStart(17, '0')}`);
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => fake.query(input));
  return fake;
}

/** One entry a day at noon from `first`, for `days` days. */
function daily(fake: FakeEntries, first: string, days: number): void {
  const t0 = Date.parse(first);
  for (let i = 0; i < days; i += 1) fake.append(new Date(t0 + i * DAY + DAY / 2).toISOString());
}

const queries = () => ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
const edgeQueries = () => queries().filter((q) => q.IndexName === ENTRIES_BY_CREATED_AT);
const pageQueries = () => queries().filter((q) => q.IndexName === undefined);

const seqsOf = (ranges: SeqRange[]) => ranges.flatMap((r) => Array.from({ length: r.hi - r.lo + 1 }, (_, i) => r.lo + i));
const readableSeqs = (fake: FakeEntries, windows: readonly ReadWindow[] | undefined) =>
  fake.entries.filter((e) => windowsContain(windows, e.created_at)).map((e) => e.seq);

beforeEach(() => {
  ddbMock.reset();
});

describe('read windows as seq ranges', () => {
  it('without windows, the whole stream is one range and nothing is read', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 30);
    expect(await seqRangesFor(fake.stream, fake.head, undefined)).toEqual([{ lo: 1, hi: 30 }]);
    expect(queries()).toHaveLength(0);
  });

  it('with no windows at all, nothing is readable and nothing is read', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 30);
    expect(await seqRangesFor(fake.stream, fake.head, [])).toEqual([]);
    expect(queries()).toHaveLength(0);
  });

  it('an empty stream has no ranges', async () => {
    const fake = fakeStream();
    expect(await seqRangesFor(fake.stream, fake.head, [{ start: '2026-01-01T00:00:00.000Z' }])).toEqual([]);
    expect(queries()).toHaveLength(0);
  });

  const withWindows = fixture.cases.filter((c) => c.expect.read_windows.length > 0);
  it.each(withWindows)('holds exactly the entries created inside the windows of "$name"', async ({ expect: decision }) => {
    const fake = fakeStream();
    daily(fake, '2025-12-01T00:00:00.000Z', 200);
    const windows = decision.read_windows as ReadWindow[];
    const ranges = await seqRangesFor(fake.stream, fake.head, windows);
    expect(seqsOf(ranges)).toEqual(readableSeqs(fake, windows));
    expect(ranges.every((r, i) => i === 0 || r.lo > (ranges[i - 1] as SeqRange).hi + 1)).toBe(true);
  });

  it('includes entries created exactly at either edge', async () => {
    const fake = fakeStream();
    for (const t of ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z', '2026-01-05T00:00:00.000Z']) fake.append(t);
    const ranges = await seqRangesFor(fake.stream, fake.head, [{ start: '2026-01-02T00:00:00.000Z', end: '2026-01-04T00:00:00.000Z' }]);
    expect(ranges).toEqual([{ lo: 2, hi: 4 }]);
  });

  it('finds the edge seq when more entries than one probe share the edge millisecond', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 3);
    for (let i = 0; i < 60; i += 1) fake.append('2026-02-01T00:00:00.000Z');
    daily(fake, '2026-02-10T00:00:00.000Z', 3);
    for (let i = 0; i < 40; i += 1) fake.append('2026-03-01T00:00:00.000Z');
    daily(fake, '2026-03-10T00:00:00.000Z', 3);
    const windows = [{ start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' }];
    const ranges = await seqRangesFor(fake.stream, fake.head, windows);
    expect(ranges).toEqual([{ lo: 4, hi: 106 }]);
    expect(seqsOf(ranges)).toEqual(readableSeqs(fake, windows));
  });

  it('reads edges with small strongly consistent Queries on by_created_at', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 60);
    await seqRangesFor(fake.stream, fake.head, [{ start: '2026-01-10T00:00:00.000Z', end: '2026-01-20T00:00:00.000Z' }]);
    expect(edgeQueries()).toHaveLength(2);
    for (const q of edgeQueries()) {
      expect(q).toMatchObject({ IndexName: ENTRIES_BY_CREATED_AT, ConsistentRead: true });
      expect(q.Limit).toBeLessThanOrEqual(25);
    }
    expect(edgeQueries().map((q) => q.ScanIndexForward)).toEqual([true, false]);
  });

  it('draws an edge given with an offset or without milliseconds at the same instant', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 60);
    const ranges = await seqRangesFor(fake.stream, fake.head, [{ end: '2026-01-31T02:00:00+02:00' }]);
    expect(edgeQueries()[0]?.ExpressionAttributeValues?.[':edge']).toBe('2026-01-31T00:00:00.000Z');
    expect(seqsOf(ranges)).toEqual(readableSeqs(fake, [{ end: '2026-01-31T00:00:00.000Z' }]));
  });

  it('fails closed on an unreadable edge', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    await expect(seqRangesFor(fake.stream, fake.head, [{ start: 'last tuesday' }])).rejects.toBeInstanceOf(AccessProviderUnavailableError);
  });

  it('a window starting after the last entry holds nothing yet and costs no read', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    expect(await seqRangesFor(fake.stream, fake.head, [{ start: '2026-05-01T00:00:00.000Z' }])).toEqual([]);
    expect(queries()).toHaveLength(0);
  });

  it('a window whose start is after its end holds nothing and costs no read', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    expect(await seqRangesFor(fake.stream, fake.head, [{ start: '2026-01-05T00:00:00.000Z', end: '2026-01-04T00:00:00.000Z' }])).toEqual([]);
    expect(queries()).toHaveLength(0);
  });
});

describe('edge caching', () => {
  it('looks up a past start edge once', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 60);
    const windows = [{ start: '2026-02-13T00:00:00.000Z' }];
    const first = await seqRangesFor(fake.stream, fake.head, windows);
    daily(fake, '2026-03-05T00:00:00.000Z', 5);
    const second = await seqRangesFor(fake.stream, fake.head, windows);
    expect(edgeQueries()).toHaveLength(1);
    expect(second).toEqual([{ lo: (first[0] as SeqRange).lo, hi: 65 }]);
    expect(seqsOf(second)).toEqual(readableSeqs(fake, windows));
  });

  it('looks up a past end edge once', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 60);
    const windows = [{ end: '2026-01-31T00:00:00.000Z' }];
    await seqRangesFor(fake.stream, fake.head, windows);
    await seqRangesFor(fake.stream, fake.head, windows);
    expect(edgeQueries()).toHaveLength(1);
  });

  it('keeps the edges of one stream apart from another\'s', async () => {
    const a = fakeStream();
    daily(a, '2026-01-01T00:00:00.000Z', 60);
    const windows = [{ start: '2026-01-20T00:00:00.000Z' }];
    expect(await seqRangesFor(a.stream, a.head, windows)).toEqual([{ lo: 20, hi: 60 }]);
    const b = fakeStream();
    daily(b, '2026-01-15T00:00:00.000Z', 60);
    expect(await seqRangesFor(b.stream, b.head, windows)).toEqual([{ lo: 6, hi: 60 }]);
  });

  it('looks up a start edge at the last entry\'s created_at every time, and sees entries added since', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    const last = fake.head.last_created_at as string;
    const windows = [{ start: last }];
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([{ lo: 10, hi: 10 }]);
    fake.append(last);
    fake.append(last);
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([{ lo: 10, hi: 12 }]);
    expect(edgeQueries()).toHaveLength(2);
  });

  it('does not cache an end edge at or after the last entry, so it narrows when newer entries arrive', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    const windows = [{ end: '2026-01-20T00:00:00.000Z' }];
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([{ lo: 1, hi: 10 }]);
    expect(edgeQueries()).toHaveLength(0);
    daily(fake, '2026-01-25T00:00:00.000Z', 5);
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([{ lo: 1, hi: 10 }]);
    expect(edgeQueries()).toHaveLength(1);
  });

  it('does not cache "nothing yet" for a start edge after the last entry', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 10);
    const windows = [{ start: '2026-02-01T00:00:00.000Z' }];
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([]);
    daily(fake, '2026-02-01T00:00:00.000Z', 3);
    expect(await seqRangesFor(fake.stream, fake.head, windows)).toEqual([{ lo: 11, hi: 13 }]);
  });
});

describe('pages over a stream with hidden stretches', () => {
  /** 300 daily entries; readable: up to day 95, then from day 180 on (a hidden middle of 84). */
  function gapped(): { fake: FakeEntries; windows: ReadWindow[] } {
    const fake = fakeStream();
    daily(fake, '2025-06-01T00:00:00.000Z', 300);
    const at = (seq: number) => (fake.entries[seq - 1] as EntryItem).created_at;
    return { fake, windows: [{ end: at(95) }, { start: at(180) }] };
  }

  async function walk(fake: FakeEntries, windows: ReadWindow[], first: PageRequest, next: (last: number) => PageRequest) {
    const pages: { seqs: number[]; has_more: boolean; queries: number }[] = [];
    let request = first;
    for (;;) {
      ddbMock.resetHistory();
      const page = await pageEntries(fake.stream, fake.head, request, windows);
      pages.push({ seqs: page.entries.map((e) => e.seq), has_more: page.has_more, queries: pageQueries().length + edgeQueries().length });
      const last = page.entries.at(-1)?.seq;
      if (!page.has_more || last === undefined) return pages;
      request = next(last);
    }
  }

  it('after_seq pages return every readable entry once, in order, one Query a page once the edges are known', async () => {
    const { fake, windows } = gapped();
    const pages = await walk(fake, windows, { after_seq: 0, limit: 20 }, (last) => ({ after_seq: last, limit: 20 }));
    expect(pages.flatMap((p) => p.seqs)).toEqual(readableSeqs(fake, windows));
    expect(pages.every((p) => p.seqs.length > 0)).toBe(true);
    expect(pages.map((p) => p.has_more)).toEqual(pages.map((_, i) => i < pages.length - 1));
    expect(pages.slice(1).every((p) => p.queries === 1)).toBe(true);
    // The page at the window's end is short, the next one starts past the hidden middle.
    expect(pages[4]?.seqs).toEqual(Array.from({ length: 15 }, (_, i) => 81 + i));
    expect(pages[4]?.has_more).toBe(true);
    expect(pages[5]?.seqs[0]).toBe(180);
  });

  it('the newest page and before_seq pages walk back over the hidden middle for free', async () => {
    const { fake, windows } = gapped();
    const pages = await walk(fake, windows, { limit: 30 }, (last) => ({ before_seq: last, limit: 30 }));
    expect(pages.flatMap((p) => p.seqs)).toEqual(readableSeqs(fake, windows).reverse());
    expect(pages[0]?.seqs.slice(0, 2)).toEqual([300, 299]);
    expect(pages.every((p) => p.seqs.length > 0)).toBe(true);
    expect(pages.map((p) => p.has_more)).toEqual(pages.map((_, i) => i < pages.length - 1));
    expect(pages.slice(1).every((p) => p.queries === 1)).toBe(true);
  });

  it('each page is one strongly consistent Query of a seq range in the page\'s direction', async () => {
    const { fake, windows } = gapped();
    await pageEntries(fake.stream, fake.head, { after_seq: 90, limit: 20 }, windows);
    expect(pageQueries()).toEqual([
      expect.objectContaining({
        ConsistentRead: true,
        ScanIndexForward: true,
        Limit: 5,
        ExpressionAttributeValues: { ':stream': fake.stream, ':from': 91, ':to': 95 },
      }),
    ]);
  });

  it('a page asked for from inside the hidden middle starts at the next readable entry', async () => {
    const { fake, windows } = gapped();
    const page = await pageEntries(fake.stream, fake.head, { after_seq: 120, limit: 3 }, windows);
    expect(page.entries.map((e) => e.seq)).toEqual([180, 181, 182]);
    expect(page.has_more).toBe(true);
  });

  it('past the last readable entry the page is empty, has no more, and costs no page Query', async () => {
    const { fake, windows } = gapped();
    const page = await pageEntries(fake.stream, fake.head, { after_seq: 300, limit: 20 }, windows);
    expect(page).toEqual({ entries: [], has_more: false });
    expect(pageQueries()).toHaveLength(0);
  });

  it('a tombstone keeps its seq and appears as a tombstone', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 2);
    fake.append('2026-01-03T12:00:00.000Z', { is_deleted: true, body_text: null, rev: 2 });
    daily(fake, '2026-01-04T00:00:00.000Z', 2);
    const page = await pageEntries(fake.stream, fake.head, { after_seq: 0, limit: 20 }, undefined);
    expect(page.entries.map((e) => [e.seq, e.is_deleted])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
    ]);
  });

  it('a page the Query cut short (1 MB) is short with has_more, and the next page goes on from it', async () => {
    const fake = fakeStream();
    daily(fake, '2026-01-01T00:00:00.000Z', 50);
    fake.maxItemsPerQuery = 7;
    const first = await pageEntries(fake.stream, fake.head, { after_seq: 0, limit: 20 }, undefined);
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(first.has_more).toBe(true);
    const back = await pageEntries(fake.stream, fake.head, { before_seq: 8, limit: 20 }, undefined);
    expect(back.entries.map((e) => e.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(back.has_more).toBe(false);
  });
});
