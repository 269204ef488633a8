/**
 * The default provider's read windows, a pure function of a user's subscription
 * periods on one channel, the channel's backfill policy, and now
 * (fixtures/read-windows.json holds the normative cases).
 */
import type { AccessMode, ReadWindow } from './decision';

export interface Period {
  readonly start: string;
  readonly end?: string;
}

export interface WindowsAnswer {
  readonly mode: AccessMode;
  readonly read_windows: ReadWindow[];
}

const DAY_MS = 24 * 3600 * 1000;

interface Span {
  start: number; // -Infinity when open
  end: number; // +Infinity when open
}

/**
 * Periods starting after now are ignored; the earliest remaining period opens
 * (-∞, end]; each later one opens [start − backfill, end]; overlapping or touching
 * windows merge; edges are inclusive. FULL while a period is active, ARCHIVE_UNTIL
 * when only past windows remain, DENY when there are none.
 */
export function readWindowsFor(periods: readonly Period[], backfillDays: number, now: number): WindowsAnswer {
  const started = periods
    .map((p) => ({ start: Date.parse(p.start), end: p.end === undefined ? Number.POSITIVE_INFINITY : Date.parse(p.end) }))
    .filter((p) => p.start <= now)
    .sort((a, b) => a.start - b.start);
  if (started.length === 0) return { mode: 'DENY', read_windows: [] };
  const spans: Span[] = started.map((p, i) => ({ start: i === 0 ? Number.NEGATIVE_INFINITY : p.start - backfillDays * DAY_MS, end: p.end }));
  spans.sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  const active = started.some((p) => p.start <= now && p.end > now);
  return {
    mode: active ? 'FULL' : 'ARCHIVE_UNTIL',
    read_windows: merged.map((s) => ({
      ...(Number.isFinite(s.start) ? { start: new Date(s.start).toISOString() } : {}),
      ...(Number.isFinite(s.end) ? { end: new Date(s.end).toISOString() } : {}),
    })),
  };
}

/**
 * How long the answer stays true: never past the next edge where it could change
 * (an active period's end, a future period's start), and never more than `cap`.
 */
export function secondsUntilNextEdge(periods: readonly Period[], now: number, capSeconds: number): number {
  const edges = periods
    .flatMap((p) => [Date.parse(p.start), p.end === undefined ? Number.NaN : Date.parse(p.end)])
    .filter((t) => Number.isFinite(t) && t > now);
  const next = edges.length ? Math.min(...edges) : Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(capSeconds, Math.floor((next - now) / 1000)));
}
