import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionError, LocalFunctions } from '../../local/functions';
import type { FunctionSpec } from '../../shared/spec/functions';

/** A bundle shaped like the runtime's: `handler` and the clock hook, with module state to observe. */
const PROBE = `
import { threadId } from 'node:worker_threads';
let now = () => Date.now();
export function setClock(clock) { now = clock; }
let invocations = 0;
export async function handler(event, context) {
  invocations += 1;
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.fail) throw new TypeError('no good');
  return { greeting: process.env.GREETING, now: now(), invocations, threadId, remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId };
}
`;

const SPEC: FunctionSpec = { id: 'Probe', entry: 'probe', trigger: { kind: 'invoke' }, grants: {}, timeoutSeconds: 1 };
/** The same bundle with room to outlive another's timeout. */
const PATIENT: FunctionSpec = { id: 'Patient', entry: 'probe', trigger: { kind: 'invoke' }, grants: {}, timeoutSeconds: 3 };
const BROKEN: FunctionSpec = { id: 'Broken', entry: 'broken', trigger: { kind: 'invoke' }, grants: {}, timeoutSeconds: 1 };

interface ProbeResult {
  greeting: string;
  now: number;
  invocations: number;
  threadId: number;
  remainingMs: number;
  requestId: string;
}

let dir: string;
let offset: Float64Array;
let functions: LocalFunctions;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'functions-test-'));
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  writeFileSync(join(dir, 'broken.mjs'), "setInterval(() => undefined, 1000);\nthrow new RangeError('bad config');\n");
  const clockOffset = new SharedArrayBuffer(8);
  offset = new Float64Array(clockOffset);
  functions = new LocalFunctions({ clockOffset, maxEnvironments: 2, specs: [SPEC, PATIENT, BROKEN],
    bundles: async () => new Map([
      ['Probe', join(dir, 'probe.mjs')],
      ['Patient', join(dir, 'probe.mjs')],
      ['Broken', join(dir, 'broken.mjs')],
    ]),
  });
  functions.environment = { GREETING: 'hello from the environment' };
});

afterAll(async () => {
  await functions.stop();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (event: Record<string, unknown> = {}) => functions.invoke('Probe', event) as Promise<ProbeResult>;

describe('local Lambda execution environments', () => {
  it('run the bundle with the function’s environment variables, the runtime clock and a Lambda context', async () => {
    offset[0] = 3_600_000;
    const result = await invoke();
    offset[0] = 0;
    expect(result.greeting).toBe('hello from the environment');
    expect(result.now).toBeGreaterThanOrEqual(Date.now() + 3_600_000 - 5_000);
    expect(result.remainingMs).toBeGreaterThan(0);
    expect(result.remainingMs).toBeLessThanOrEqual(1000);
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reuse a warm environment for invocations one after another', async () => {
    const first = await invoke();
    const second = await invoke();
    expect(second.threadId).toBe(first.threadId);
    expect(second.invocations).toBe(first.invocations + 1);
  });

  it('run overlapping invocations in environments side by side, at most the cap, the rest waiting for one', async () => {
    const results = await Promise.all([invoke({ sleepMs: 200 }), invoke({ sleepMs: 200 }), invoke({ sleepMs: 200 })]);
    expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
  });

  it('reject with the handler’s error and keep the environment', async () => {
    const before = await invoke();
    const failure = await invoke({ fail: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FunctionError);
    expect(failure).toMatchObject({ name: 'TypeError', message: 'no good' });
    const after = await invoke();
    expect(after.threadId).toBe(before.threadId);
  });

  it('end an invocation past the function’s timeout and discard its environment', async () => {
    const failure = await invoke({ sleepMs: 5000 }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'Task timed out after 1 seconds' });
    // Both environments answer again; the one that timed out was replaced by a fresh one.
    const results = await Promise.all([invoke({ sleepMs: 50 }), invoke({ sleepMs: 50 })]);
    expect(results.map((r) => r.invocations)).toContain(1);
  });

  it('give the place of an environment that ended to the invocation waiting longest, not to one arriving later', async () => {
    const patient = (event: Record<string, unknown>) => functions.invoke('Patient', event) as Promise<ProbeResult>;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Both places taken: one invocation times out at 3 s, the other runs past that.
    const timedOut = patient({ sleepMs: 10_000 }).catch((error: unknown) => error);
    // Started 1.5 s later, it ends 0.75 s after the other times out and 0.75 s before its own timeout.
    await sleep(1_500);
    const outlasting = patient({ sleepMs: 2_250 });
    await sleep(100);
    const waiting = patient({ who: 'waiting' });
    // An invocation arriving the moment the timed-out environment is discarded.
    let arriving: Promise<ProbeResult> | undefined;
    const stop = functions.onInvocation((record) => {
      if (record.functionId === 'Patient' && record.failed) arriving = patient({ who: 'arriving' });
    });
    expect(await timedOut).toMatchObject({ message: 'Task timed out after 3 seconds' });
    stop();
    const [waited, arrived] = await Promise.all([waiting, arriving as Promise<ProbeResult>, outlasting]);
    // The waiting invocation started a fresh environment in the freed place; the later one waited for the other.
    expect(waited.invocations).toBe(1);
    expect(arrived.invocations).toBe(2);
  });

  it('fail an invocation whose environment cannot start, and start a fresh one for the next', async () => {
    for (let i = 0; i < 2; i++) {
      await expect(functions.invoke('Broken', {})).rejects.toMatchObject({ name: 'RangeError', message: 'init failed: bad config' });
    }
    await expect(invoke()).resolves.toMatchObject({ greeting: 'hello from the environment' });
  });

  it('count invocations and report each to observers with its event and outcome', async () => {
    const seen: { event: unknown; failed: boolean }[] = [];
    const stop = functions.onInvocation((record) => seen.push({ event: record.event, failed: record.failed }));
    const before = functions.counts.Probe ?? 0;
    await invoke({ n: 1 });
    await invoke({ fail: true }).catch(() => undefined);
    stop();
    expect(functions.counts.Probe).toBe(before + 2);
    expect(seen).toEqual([
      { event: { n: 1 }, failed: false },
      { event: { fail: true }, failed: true },
    ]);
  });

  it('refuse invocations once stopped', async () => {
    await functions.stop();
    await expect(invoke()).rejects.toThrow('the runtime has stopped');
  });
});
