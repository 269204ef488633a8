/**
 * The local DynamoDB endpoint: dynalite in-process behind a front that adds what
 * dynalite lacks — TransactWriteItems / TransactGetItems, DynamoDB Streams (served on
 * the same endpoint), TTL — and counts requests and consumed capacity for the bench.
 * On disk when `path` is given (dynalite's LevelDB, plus the front's own keys in it),
 * in memory otherwise.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDbFront, emptyStats, type DynamoDbStats, type TimedRequest } from './front';

export { createTables } from './tables';
export type { DynamoDbStats, TimedRequest } from './front';

export interface LocalDynamoDbOptions {
  /** LevelDB directory for on-disk data; omitted = in-memory. */
  path?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** The injectable clock (epoch ms) used for TTL sweeps and stream record times; default Date.now. */
  now?: () => number;
  /** 0 = no timer (call sweepTtl yourself); default 1000. */
  ttlSweepIntervalMs?: number;
}

export interface LocalDynamoDb {
  /** http://127.0.0.1:<port>; serves DynamoDB_20120810.* and DynamoDBStreams_20120810.* targets. */
  endpoint: string;
  /** Deletes expired items now (TTL-enabled tables); returns how many. */
  sweepTtl(): Promise<number>;
  /** Requests and consumed capacity since the start or the last resetStats(). */
  stats(): DynamoDbStats;
  resetStats(): void;
  /** Calls `listener` with each DynamoDB request's operation and duration until the returned function is called. */
  onRequest(listener: (request: TimedRequest) => void): () => void;
  /** The newest stream sequence number of a table (0 when none): lets pollers tell when they have caught up. */
  latestSequence(table: string): number;
  /** Stops the server and closes the store cleanly (nothing committed is lost). */
  close(): Promise<void>;
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const front = await DynamoDbFront.open(options.path, options.now ?? Date.now);
  const server = createServer((req, res) => {
    front.serve(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const text = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) });
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  // One sweep at a time: a timer tick during a sweep joins it.
  let sweeping: Promise<number> | undefined;
  const sweep = () => (sweeping ??= front.sweepTtl().finally(() => (sweeping = undefined)));
  const interval = options.ttlSweepIntervalMs ?? 1000;
  const timer = interval > 0 ? setInterval(() => void sweep().catch(() => undefined), interval) : undefined;
  timer?.unref();

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    sweepTtl: sweep,
    stats: () => structuredClone(front.stats),
    resetStats: () => {
      front.stats = emptyStats();
    },
    onRequest: (listener) => {
      front.requestListeners.add(listener);
      return () => front.requestListeners.delete(listener);
    },
    latestSequence: (table) => front.streams.latest(table),
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        await sweeping?.catch(() => undefined);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        await front.close();
      })()),
  };
}
