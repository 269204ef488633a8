import { describe, expect, it } from 'vitest';
import { hasMoreBeyond, planPage, type PagePlan, type PageRequest } from '../../shared/streams/reading';
import { mergeRanges, type SeqRange } from '../../shared/streams/windows';

const r = (lo: number, hi: number): SeqRange => ({ lo, hi });

/** Seqs 1..100 readable in three ranges with hidden stretches 11..39 and 61..89. */
const THREE = [r(1, 10), r(40, 60), r(90, 100)];

describe('page planning inside read ranges', () => {
  const cases: { name: string; ranges: SeqRange[]; request: PageRequest; plan: PagePlan | undefined }[] = [
    { name: 'after 0 starts at the first readable seq', ranges: THREE, request: { after_seq: 0, limit: 5 }, plan: { from: 1, to: 5, ascending: true } },
    { name: 'after a seq inside a range continues there', ranges: THREE, request: { after_seq: 3, limit: 5 }, plan: { from: 4, to: 8, ascending: true } },
    { name: 'an ascending page stops at the range edge (short page)', ranges: THREE, request: { after_seq: 8, limit: 5 }, plan: { from: 9, to: 10, ascending: true } },
    { name: 'after a range edge it jumps over the hidden stretch', ranges: THREE, request: { after_seq: 10, limit: 5 }, plan: { from: 40, to: 44, ascending: true } },
    { name: 'after a hidden seq it starts at the next range', ranges: THREE, request: { after_seq: 25, limit: 100 }, plan: { from: 40, to: 60, ascending: true } },
    { name: 'after the last readable seq there is nothing', ranges: THREE, request: { after_seq: 100, limit: 5 }, plan: undefined },
    { name: 'after a seq beyond the head there is nothing', ranges: THREE, request: { after_seq: 500, limit: 5 }, plan: undefined },
    { name: 'the newest page ends at the last readable seq', ranges: THREE, request: { limit: 5 }, plan: { from: 96, to: 100, ascending: false } },
    { name: 'the newest page stops at the range edge', ranges: THREE, request: { limit: 20 }, plan: { from: 90, to: 100, ascending: false } },
    { name: 'before a seq inside a range continues there', ranges: THREE, request: { before_seq: 55, limit: 5 }, plan: { from: 50, to: 54, ascending: false } },
    { name: 'a descending page stops at the range edge', ranges: THREE, request: { before_seq: 43, limit: 5 }, plan: { from: 40, to: 42, ascending: false } },
    { name: 'before a range start it jumps back over the hidden stretch', ranges: THREE, request: { before_seq: 40, limit: 5 }, plan: { from: 6, to: 10, ascending: false } },
    { name: 'before a hidden seq it ends in the previous range', ranges: THREE, request: { before_seq: 75, limit: 100 }, plan: { from: 40, to: 60, ascending: false } },
    { name: 'before a seq beyond the head reads the newest', ranges: THREE, request: { before_seq: 1000, limit: 3 }, plan: { from: 98, to: 100, ascending: false } },
    { name: 'before the first readable seq there is nothing', ranges: THREE, request: { before_seq: 1, limit: 5 }, plan: undefined },
    { name: 'before 0 there is nothing', ranges: THREE, request: { before_seq: 0, limit: 5 }, plan: undefined },
    { name: 'no ranges: no newest page', ranges: [], request: { limit: 20 }, plan: undefined },
    { name: 'no ranges: nothing after 0', ranges: [], request: { after_seq: 0, limit: 20 }, plan: undefined },
    { name: 'limit 1 reads one seq', ranges: [r(7, 7)], request: { after_seq: 0, limit: 1 }, plan: { from: 7, to: 7, ascending: true } },
  ];
  it.each(cases)('$name', ({ ranges, request, plan }) => {
    expect(planPage(ranges, request)).toEqual(plan);
  });
});

describe('has_more after a page', () => {
  const cases: { name: string; ascending: boolean; last: number; expected: boolean }[] = [
    { name: 'ascending, more in the same range', ascending: true, last: 5, expected: true },
    { name: 'ascending, at a range end with a later range', ascending: true, last: 10, expected: true },
    { name: 'ascending, at the last readable seq', ascending: true, last: 100, expected: false },
    { name: 'descending, more in the same range', ascending: false, last: 95, expected: true },
    { name: 'descending, at a range start with an earlier range', ascending: false, last: 40, expected: true },
    { name: 'descending, at the first readable seq', ascending: false, last: 1, expected: false },
  ];
  it.each(cases)('$name', ({ ascending, last, expected }) => {
    expect(hasMoreBeyond(THREE, ascending, last)).toBe(expected);
  });
});

describe('merging seq ranges', () => {
  const cases: { name: string; input: SeqRange[]; expected: SeqRange[] }[] = [
    { name: 'sorts disjoint ranges', input: [r(40, 60), r(1, 10)], expected: [r(1, 10), r(40, 60)] },
    { name: 'joins overlapping ranges', input: [r(1, 10), r(5, 20)], expected: [r(1, 20)] },
    { name: 'joins touching ranges (no hidden seq between)', input: [r(11, 20), r(1, 10)], expected: [r(1, 20)] },
    { name: 'keeps a one-seq gap', input: [r(1, 10), r(12, 20)], expected: [r(1, 10), r(12, 20)] },
    { name: 'swallows a nested range', input: [r(1, 30), r(5, 6)], expected: [r(1, 30)] },
    { name: 'nothing stays nothing', input: [], expected: [] },
  ];
  it.each(cases)('$name', ({ input, expected }) => {
    expect(mergeRanges(input)).toEqual(expected);
  });
});

/** Pages the way a client does, with the planner alone over gapless seqs; returns every page. */
function walk(ranges: SeqRange[], limit: number, ascending: boolean): { seqs: number[]; has_more: boolean }[] {
  const pages: { seqs: number[]; has_more: boolean }[] = [];
  let request: PageRequest = ascending ? { after_seq: 0, limit } : { limit };
  for (;;) {
    const plan = planPage(ranges, request);
    const seqs = plan ? Array.from({ length: plan.to - plan.from + 1 }, (_, i) => (plan.ascending ? plan.from + i : plan.to - i)) : [];
    const last = seqs.at(-1);
    const has_more = last !== undefined && hasMoreBeyond(ranges, ascending, last);
    pages.push({ seqs, has_more });
    if (!has_more || last === undefined) return pages;
    request = ascending ? { after_seq: last, limit } : { before_seq: last, limit };
  }
}

describe('paging through every readable seq', () => {
  const layouts: { name: string; ranges: SeqRange[] }[] = [
    { name: 'one range', ranges: [r(1, 57)] },
    { name: 'three ranges with hidden stretches', ranges: THREE },
    { name: 'ranges of one seq', ranges: [r(2, 2), r(4, 4), r(9, 9)] },
    { name: 'a hidden start and end', ranges: [r(500, 520), r(9000, 9999)] },
  ];
  const limits = [1, 3, 20, 100];
  for (const { name, ranges } of layouts) {
    const readable = ranges.flatMap((x) => Array.from({ length: x.hi - x.lo + 1 }, (_, i) => x.lo + i));
    for (const limit of limits) {
      it(`${name}, limit ${limit}: ascending pages visit each readable seq once, in order, none empty before the end`, () => {
        const pages = walk(ranges, limit, true);
        expect(pages.flatMap((p) => p.seqs)).toEqual(readable);
        expect(pages.every((p) => p.seqs.length > 0 && p.seqs.length <= limit)).toBe(true);
        expect(pages.map((p) => p.has_more)).toEqual(pages.map((_, i) => i < pages.length - 1));
      });
      it(`${name}, limit ${limit}: descending pages from the newest visit each readable seq once, newest first`, () => {
        const pages = walk(ranges, limit, false);
        expect(pages.flatMap((p) => p.seqs)).toEqual([...readable].reverse());
        expect(pages.every((p) => p.seqs.length > 0 && p.seqs.length <= limit)).toBe(true);
        expect(pages.map((p) => p.has_more)).toEqual(pages.map((_, i) => i < pages.length - 1));
      });
    }
  }

  it('a page never holds seqs of two ranges', () => {
    const pages = walk(THREE, 100, true);
    expect(pages.map((p) => [p.seqs[0], p.seqs.at(-1)])).toEqual([
      [1, 10],
      [40, 60],
      [90, 100],
    ]);
  });
});
