/**
 * The one clock: TTLs, windows, idempotency expiry and token checks read time here,
 * so the local runtime and tests can drive time without waiting.
 */
export type Clock = () => number;

let current: Clock = () => Date.now();

export function now(): number {
  return current();
}

export function nowIso(): string {
  return new Date(current()).toISOString();
}

/** Replace the clock (local runtime and tests); returns a function restoring the previous one. */
export function setClock(clock: Clock): () => void {
  const previous = current;
  current = clock;
  return () => {
    current = previous;
  };
}
