import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWindowsFor, secondsUntilNextEdge, type Period } from '../../shared/access/windows';

interface FixtureCase {
  name: string;
  backfill_days: number;
  now: string;
  periods: Period[];
  expect: { mode: string; read_windows: { start?: string; end?: string }[] };
}

const fixtures = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../shared/fixtures/read-windows.json'), 'utf8')) as { cases: FixtureCase[] };

describe('read windows of the default provider', () => {
  it('has normative cases to check', () => {
    expect(fixtures.cases.length).toBeGreaterThan(10);
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('answers the fixture case: %s', (_name, c) => {
    expect(readWindowsFor(c.periods, c.backfill_days, Date.parse(c.now))).toEqual(c.expect);
  });

  it('merges overlapping periods into one window', () => {
    const periods = [
      { start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' },
      { start: '2026-01-20T00:00:00.000Z', end: '2026-03-01T00:00:00.000Z' },
    ];
    expect(readWindowsFor(periods, 0, Date.parse('2026-04-01T00:00:00.000Z'))).toEqual({
      mode: 'ARCHIVE_UNTIL',
      read_windows: [{ end: '2026-03-01T00:00:00.000Z' }],
    });
  });

  it('keeps the seed example gap hidden between Jan 31 and Feb 13', () => {
    const answer = readWindowsFor([{ start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-20T00:00:00.000Z' }], 7, Date.parse('2026-02-25T00:00:00.000Z'));
    expect(answer.read_windows).toEqual([{ end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-13T00:00:00.000Z' }]);
    expect(answer.mode).toBe('FULL');
  });
});

describe('how long a provider answer may be cached', () => {
  const now = Date.parse('2026-03-01T00:00:00.000Z');

  it('never reaches past the end of the active period', () => {
    expect(secondsUntilNextEdge([{ start: '2026-02-01T00:00:00.000Z', end: '2026-03-01T00:01:00.000Z' }], now, 300)).toBe(60);
  });

  it('never reaches past the start of a future period', () => {
    expect(secondsUntilNextEdge([{ start: '2026-03-01T00:00:10.000Z' }], now, 300)).toBe(10);
  });

  it('is capped when no edge is near', () => {
    expect(secondsUntilNextEdge([{ start: '2026-01-01T00:00:00.000Z' }], now, 300)).toBe(300);
  });
});
