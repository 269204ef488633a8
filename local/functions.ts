/**
 * Lambda as the local runtime runs it. Every function is bundled as CDK deploys it
 * (local/bundle.ts) and runs in execution environments of its own: worker threads with
 * the layer's configuration as environment variables, their own module scope, a cold
 * start on first use (init limited to 10 s),
 * one invocation at a time each, another environment when invocations overlap (up to
 * a cap, then they queue), and an environment discarded when its invocation times out
 * or crashes. Functions run in parallel across cores, as Lambda runs them side by side.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FUNCTIONS, type FunctionSpec } from '../shared/spec/functions';
import { cachedBundles } from './bundle';

export interface InvocationRecord {
  readonly functionId: string;
  /** The event the handler was given (the handler itself receives a structured clone). */
  readonly event: unknown;
  /** When the invocation was asked for (waits for an environment and cold starts included). */
  readonly startedAt: number;
  /** When the handler itself started (an environment was ready). */
  readonly handlerStartedAt: number;
  readonly endedAt: number;
  readonly failed: boolean;
}

export interface LocalFunctionsOptions {
  /** The runtime clock's offset from real time (one Float64), read by every environment's clock. */
  readonly clockOffset: SharedArrayBuffer;
  /** Environments per function at most; invocations beyond wait for one (default 4). */
  readonly maxEnvironments?: number;
  /** The functions (default: the catalogue, shared/spec/functions.ts). */
  readonly specs?: readonly FunctionSpec[];
  /** Each function's bundle file (default: the catalogue bundled as deployed, with the clock hook). */
  readonly bundles?: () => Promise<Map<string, string>>;
}

/** Raised in the caller when an invocation fails; `name` and `message` are the handler's. */
export class FunctionError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const INIT_TIMEOUT_MS = 10_000;

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; name: string; message: string }
  | { type: 'result'; id: string; json?: string }
  | { type: 'error'; id: string; name: string; message: string };

/** Runs inside each environment: imports the bundle, sets its clock, answers invocations. */
const ENVIRONMENT_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const described = (e) => ({ name: (e && e.name) || 'Error', message: (e && e.message) || String(e) });
import(workerData.bundle).then((bundle) => {
  const offset = new Float64Array(workerData.clockOffset);
  bundle.setClock(() => Date.now() + offset[0]);
  parentPort.on('message', async ({ id, event, context, timeoutMs }) => {
    const deadline = Date.now() + timeoutMs;
    const ctx = { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done() {}, fail() {}, succeed() {} };
    try {
      const result = await bundle.handler(event, ctx);
      parentPort.postMessage({ type: 'result', id, json: result === undefined ? undefined : JSON.stringify(result) });
    } catch (error) {
      parentPort.postMessage({ type: 'error', id, ...described(error) });
    }
  });
  parentPort.postMessage({ type: 'ready' });
}, (error) => parentPort.postMessage({ type: 'init-error', ...described(error) }));
`;

/** One execution environment: a worker running one function's bundle, one invocation at a time. */
class Environment {
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  private pending?: { id: string; resolve: (value: unknown) => void; reject: (error: Error) => void };
  dead = false;

  constructor(bundle: string, clockOffset: SharedArrayBuffer, env: Record<string, string>) {
    this.worker = new Worker(ENVIRONMENT_SCRIPT, {
      eval: true,
      workerData: { bundle: pathToFileURL(bundle).href, clockOffset },
      env,
      execArgv: ['--enable-source-maps'],
    });
    this.worker.unref();
    this.ready = new Promise((resolveReady, rejectReady) => {
      // Lambda gives an environment's init 10 s.
      const initTimer = setTimeout(() => {
        void this.terminate();
        rejectReady(new FunctionError('TimeoutError', `init timed out after ${INIT_TIMEOUT_MS / 1000} seconds`));
      }, INIT_TIMEOUT_MS);
      const resolve = () => {
        clearTimeout(initTimer);
        resolveReady();
      };
      const reject = (error: Error) => {
        clearTimeout(initTimer);
        rejectReady(error);
      };
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') reject(new FunctionError(message.name, `init failed: ${message.message}`));
        else this.settle(message);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', (error) => this.fail(error, reject));
      this.worker.on('exit', (code) => this.fail(new Error(`environment exited (code ${code})`), reject));
    });
  }

  private settle(message: WorkerMessage): void {
    const pending = this.pending;
    if (!pending || !('id' in message) || message.id !== pending.id) return;
    this.pending = undefined;
    if (message.type === 'result') pending.resolve(message.json === undefined ? undefined : JSON.parse(message.json));
    else if (message.type === 'error') pending.reject(new FunctionError(message.name, message.message));
  }

  private fail(error: Error, rejectReady: (error: Error) => void): void {
    this.dead = true;
    rejectReady(error);
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  /** One invocation; past `timeoutMs` the environment is discarded, as Lambda does. */
  invoke(event: unknown, context: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending?.id !== id) return;
        this.pending = undefined;
        void this.terminate();
        reject(new FunctionError('TimeoutError', `Task timed out after ${timeoutMs / 1000} seconds`));
      }, timeoutMs);
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        settle(value);
      };
      this.pending = { id, resolve: done(resolve), reject: done(reject) };
      try {
        this.worker.postMessage({ id, event, context, timeoutMs });
      } catch (error) {
        this.pending = undefined;
        done(reject)(error as Error);
      }
    });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

interface FunctionPool {
  readonly idle: Environment[];
  readonly all: Set<Environment>;
  /** Environments alive or starting: the cap counts a starting one at once. */
  size: number;
  /** Invocations waiting, first come first served: each is handed an environment, or the place of one that ended. */
  readonly waiting: ((grant: Environment | 'place' | 'stopped') => void)[];
}

export class LocalFunctions {
  readonly counts: Record<string, number> = {};
  private readonly listeners = new Set<(record: InvocationRecord) => void>();
  private readonly pools = new Map<string, FunctionPool>();
  private bundles?: Promise<Map<string, string>>;
  /** What every environment gets as process.env; set by the runtime once its endpoints are known. */
  environment?: Record<string, string>;
  running = 0;
  private stopped = false;

  constructor(private readonly options: LocalFunctionsOptions) {}

  spec(id: string): FunctionSpec {
    const spec = (this.options.specs ?? FUNCTIONS).find((f) => f.id === id);
    if (!spec) throw new Error(`no function ${id}`);
    return spec;
  }

  onInvocation(listener: (record: InvocationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private pool(id: string): FunctionPool {
    let pool = this.pools.get(id);
    if (!pool) {
      pool = { idle: [], all: new Set(), size: 0, waiting: [] };
      this.pools.set(id, pool);
    }
    return pool;
  }

  /** An idle environment, a new one (cold start) while under the cap, or else, in turn, the next one released or the place of one that ended. */
  private async acquire(spec: FunctionSpec): Promise<Environment> {
    if (this.stopped) throw new Error('the runtime has stopped');
    const pool = this.pool(spec.id);
    for (let environment = pool.idle.pop(); environment; environment = pool.idle.pop()) {
      if (!environment.dead) return environment;
      // It ended while idle (a crash): its place is free.
      pool.all.delete(environment);
      this.freePlace(pool);
    }
    if (pool.size >= (this.options.maxEnvironments ?? 4)) {
      const grant = await new Promise<Environment | 'place' | 'stopped'>((resolve) => pool.waiting.push(resolve));
      if (grant === 'stopped') throw new Error('the runtime has stopped');
      if (grant !== 'place') return grant;
      // The place of an environment that ended, kept (and counted) for this invocation: one starts in it.
    } else pool.size++;
    let environment: Environment | undefined;
    try {
      if (this.stopped) throw new Error('the runtime has stopped');
      const variables = this.environment;
      if (!variables) throw new Error('the runtime has not configured its functions yet');
      // Every function is bundled in one esbuild run (or found in the cache), on the first invocation of any.
      this.bundles ??= this.options.bundles?.() ?? cachedBundles(this.options.specs ?? FUNCTIONS, { clockHook: true });
      const bundle = (await this.bundles).get(spec.id) as string;
      if (this.stopped) throw new Error('the runtime has stopped');
      environment = new Environment(bundle, this.options.clockOffset, variables);
      pool.all.add(environment);
      await environment.ready;
      if (this.stopped) throw new Error('the runtime has stopped');
      return environment;
    } catch (error) {
      if (environment) {
        pool.all.delete(environment);
        void environment.terminate();
      }
      this.freePlace(pool);
      throw error;
    }
  }

  private release(spec: FunctionSpec, environment: Environment): void {
    const pool = this.pool(spec.id);
    if (environment.dead) {
      pool.all.delete(environment);
      this.freePlace(pool);
      return;
    }
    const next = pool.waiting.shift();
    if (next) next(environment);
    else pool.idle.push(environment);
  }

  /**
   * The place of an environment that ended goes to the first waiter, who starts a new one in
   * it (so no later invocation can take it first); with nobody waiting the pool shrinks.
   */
  private freePlace(pool: FunctionPool): void {
    const next = pool.waiting.shift();
    if (next) next('place');
    else pool.size--;
  }

  async invoke(id: string, event: unknown): Promise<unknown> {
    const spec = this.spec(id);
    const startedAt = performance.timeOrigin + performance.now();
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    this.running++;
    let failed = false;
    let handlerStartedAt = startedAt;
    try {
      const environment = await this.acquire(spec);
      handlerStartedAt = performance.timeOrigin + performance.now();
      try {
        const context = {
          callbackWaitsForEmptyEventLoop: false,
          functionName: `local-${spec.id}`,
          functionVersion: '$LATEST',
          invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:local-${spec.id}`,
          memoryLimitInMB: String(spec.memoryMb ?? 256),
          awsRequestId: randomUUID(),
          logGroupName: `/aws/lambda/local-${spec.id}`,
          logStreamName: 'local',
        };
        return await environment.invoke(event, context, (spec.timeoutSeconds ?? 10) * 1000);
      } finally {
        this.release(spec, environment);
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.running--;
      const record = { functionId: id, event, startedAt, handlerStartedAt, endedAt: performance.timeOrigin + performance.now(), failed };
      for (const listener of this.listeners) listener(record);
    }
  }

  /** Ends every environment. */
  async stop(): Promise<void> {
    this.stopped = true;
    const environments = [...this.pools.values()].flatMap((pool) => {
      for (const waiter of pool.waiting.splice(0)) waiter('stopped');
      return [...pool.all];
    });
    await Promise.all(environments.map((environment) => environment.terminate()));
    await this.bundles?.catch(() => undefined);
  }
}
