/**
 * Loads handlers from the function catalogue on first use (fast start-up) and invokes
 * them with a Lambda-like context, counting invocations per function for the bench.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionSpec } from '../shared/spec/functions';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface InvocationRecord {
  readonly functionId: string;
  /** The event as the handler received it (not a copy: observers must not change it). */
  readonly event: unknown;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly failed: boolean;
}

const ROOT = resolve(import.meta.dirname, '..');

export class LocalFunctions {
  private readonly loaded = new Map<string, Promise<Handler>>();
  readonly counts: Record<string, number> = {};
  private readonly listeners = new Set<(record: InvocationRecord) => void>();
  running = 0;

  spec(id: string): FunctionSpec {
    const spec = FUNCTIONS.find((f) => f.id === id);
    if (!spec) throw new Error(`no function ${id}`);
    return spec;
  }

  private load(spec: FunctionSpec): Promise<Handler> {
    let handler = this.loaded.get(spec.id);
    if (!handler) {
      const url = pathToFileURL(resolve(ROOT, 'lambdas', `${spec.entry}.ts`)).href;
      handler = import(url).then((m: { handler: Handler }) => m.handler);
      this.loaded.set(spec.id, handler);
    }
    return handler;
  }

  onInvocation(listener: (record: InvocationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async invoke(id: string, event: unknown): Promise<unknown> {
    const spec = this.spec(id);
    const handler = await this.load(spec);
    const startedAt = performance.timeOrigin + performance.now();
    const timeoutMs = (spec.timeoutSeconds ?? 10) * 1000;
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: `local-${spec.id}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:local-${spec.id}`,
      memoryLimitInMB: String(spec.memoryMb ?? 256),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/local-${spec.id}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (performance.timeOrigin + performance.now() - startedAt)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    this.running++;
    let failed = false;
    try {
      return await handler(event, context);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.running--;
      const record = { functionId: id, event, startedAt, endedAt: performance.timeOrigin + performance.now(), failed };
      for (const listener of this.listeners) listener(record);
    }
  }
}
