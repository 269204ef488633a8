/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The runtime's clock: real time plus an offset tests and tools can advance. */
export interface RuntimeClock {
  now(): number;
  advance(ms: number): void;
  /** The offset (one Float64), shared with every function environment's clock. */
  readonly offsetBuffer: SharedArrayBuffer;
}

export function createClock(): RuntimeClock {
  const offsetBuffer = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const offset = new Float64Array(offsetBuffer);
  return {
    now: () => Date.now() + (offset[0] as number),
    advance: (ms) => {
      offset[0] = (offset[0] as number) + ms;
    },
    offsetBuffer,
  };
}
