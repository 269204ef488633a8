/** The runtime's clock: real time plus an offset tests and tools can advance. */
export interface RuntimeClock {
  now(): number;
  advance(ms: number): void;
}

export function createClock(): RuntimeClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}
