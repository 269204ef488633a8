/**
 * What the layer knows about one user's right to read one stream, in the shape every
 * door (HTTP, WebSocket, media) enforces.
 */
/** No decision is reused longer than this (API.md: at most 300 s). */
export const MAX_DECISION_TTL_SECONDS = 300;

export type AccessMode = 'FULL' | 'ARCHIVE_UNTIL' | 'DENY';

/** Inclusive edges; an absent edge is unbounded. ISO-8601 UTC strings. */
export interface ReadWindow {
  readonly start?: string;
  readonly end?: string;
}

export interface AccessDecision {
  readonly mode: AccessMode;
  /** Absent: history is not limited. Present: only entries created inside one of them. */
  readonly windows?: readonly ReadWindow[];
  /** Epoch ms until which the decision may be reused without asking again. */
  readonly expiresAt: number;
}

/** Whether an entry created at `createdAt` lies inside the decision's windows. */
export function windowsContain(windows: readonly ReadWindow[] | undefined, createdAt: string): boolean {
  if (windows === undefined) return true;
  const t = Date.parse(createdAt);
  return windows.some(
    (w) => (w.start === undefined || Date.parse(w.start) <= t) && (w.end === undefined || t <= Date.parse(w.end)),
  );
}

export function canReadHistory(decision: AccessDecision): boolean {
  return decision.mode !== 'DENY';
}

/** Live deltas go only to FULL subscribers. */
export function receivesLive(decision: AccessDecision): boolean {
  return decision.mode === 'FULL';
}
