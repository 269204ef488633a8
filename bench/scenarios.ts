/**
 * The bench scenarios. Each takes a running local runtime (memory mode) and returns
 * figures; none asserts anything: `bench:check` compares figures with budgets.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ulid } from 'ulid';
import type { TimedPost } from '../local/apigw-ws';
import type { Runtime } from '../local/runtime';
import { api, createChannel, publish, type Api } from './api';
import { wallMs } from './clock';
import { ClientHarness } from './harness';
import { distribution, type Distribution } from './stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the bench's own SDK clients need beside an endpoint: the local runtime takes any credentials. */
const LOCAL_CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** Readers need an entitlement, as in production: recorded through the default provider's Invoke API. */
async function grantReaders(rt: Runtime, channelId: string, userIds: readonly string[]): Promise<void> {
  const lambda = new LambdaClient({ ...LOCAL_CLIENT, endpoint: rt.endpoints.lambda });
  const start = new Date(rt.clock.now() - 86_400_000).toISOString();
  for (let i = 0; i < userIds.length; i += 20) {
    await Promise.all(
      userIds.slice(i, i + 20).map((user_id) =>
        lambda.send(new InvokeCommand({ FunctionName: 'access-provider', Payload: new TextEncoder().encode(JSON.stringify({ type: 'RecordSubscription', user_id, channel_id: channelId, start })) })),
      ),
    );
  }
  lambda.destroy();
}

export interface LatencyResult {
  /** Publishes that failed outright (e.g. a handler timeout on a saturated machine). */
  readonly failedPosts: number;
  /** Time per handler invocation and per DynamoDB transaction during the run (ours only). */
  readonly stagesMs?: Record<string, Distribution>;
  /** Ours only: when each post reached each point of the delivery path, in ms since its publish request started. */
  readonly milestonesMs?: Record<Milestone, Distribution>;
  readonly sockets: number;
  readonly connected: number;
  /** Posts per second published. */
  readonly rate: number;
  readonly posts: number;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly latencyMs: Distribution;
}

/** Points on the delivery path, in path order (see bench/README.md). */
type Milestone = 'publish answered' | 'stream router started' | 'fan-out started' | '@connections post received' | 'socket written' | 'client received';

interface Publisher {
  /** Publishes one numbered message; resolves with the seq the receipts are keyed by. */
  (n: number): Promise<number>;
}

/** Posts published at once before measuring, so that each stage has warm environments. */
const WARM_UP_POSTS = 4;

/** Not measured: a layer serving 10 posts/s runs warm environments, several side by side. */
async function warmUp(publisher: Publisher, drain: () => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: WARM_UP_POSTS }, (_, i) => publisher(-(i + 1)).catch(() => undefined)));
  await drain();
  await sleep(300);
}

/** Publishes at `rate`/s for `seconds`, then collects every socket's receipts. */
async function measureDeliveries(
  harness: ClientHarness,
  connected: number,
  publisher: Publisher,
  rate: number,
  seconds: number,
  drain: () => Promise<void>,
): Promise<Omit<LatencyResult, 'sockets' | 'connected'> & { started: Map<number, number>; answered: Map<number, number> }> {
  const started = new Map<number, number>();
  const answered = new Map<number, number>();
  const inflight: Promise<void>[] = [];
  let failedPosts = 0;
  const total = Math.round(rate * seconds);
  const t0 = wallMs();
  for (let n = 1; n <= total; n++) {
    const due = t0 + ((n - 1) * 1000) / rate;
    const wait = due - wallMs();
    if (wait > 0) await sleep(wait);
    const start = wallMs();
    inflight.push(
      publisher(n).then(
        (seq) => {
          started.set(seq, start);
          answered.set(seq, wallMs());
        },
        () => void failedPosts++,
      ),
    );
  }
  await Promise.all(inflight);
  await drain();
  await sleep(300);
  const { receipts, duplicates } = await harness.collect();
  const latencies = receipts.filter(([seq]) => started.has(seq)).map(([seq, t]) => t - (started.get(seq) as number));
  const expectedDeliveries = connected * started.size;
  return {
    started,
    answered,
    failedPosts,
    rate,
    posts: total,
    expectedDeliveries,
    delivered: latencies.length,
    missing: expectedDeliveries - latencies.length,
    duplicates,
    latencyMs: distribution(latencies),
  };
}

export async function publishToDelta(rt: Runtime, sockets: number, rate: number, seconds: number): Promise<LatencyResult> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channel = await createChannel(client, admin, `latency-${ulid()}`);
  const harness = new ClientHarness();
  try {
    const readers = Array.from({ length: sockets }, (_, i) => `reader-${i}`);
    await grantReaders(rt, channel.id, readers);
    const urls = await Promise.all(readers.map(async (reader) => `${rt.endpoints.ws}?token=${await rt.token(reader)}`));
    const ready = await harness.connect(urls, { action: 'subscribe', stream: `channel:${channel.id}` });
    const stream = `channel:${channel.id}`;
    const publisher: Publisher = async (n) => (await publish(client, admin, channel.id, `post ${n}`)).seq;
    // A saturated 2-core machine may need minutes to drain what Lambda would fan out in parallel.
    const drain = () => rt.idle(600_000);
    await warmUp(publisher, drain);
    const durations: Record<string, number[]> = {};
    const routerStarted = new Map<number, number>();
    const fanoutStarted = new Map<number, number>();
    const firstAt = (at: Map<number, number>, seqs: Iterable<number>, t: number) => {
      for (const seq of seqs) if (!((at.get(seq) ?? Infinity) <= t)) at.set(seq, t);
    };
    const stopInvocations = rt.onInvocation((r) => {
      (durations[r.functionId] ??= []).push(r.endedAt - r.handlerStartedAt);
      if (r.functionId === 'StreamRouter') firstAt(routerStarted, seqsInStreamEvent(r.event, stream), r.handlerStartedAt);
      if (r.functionId === 'Fanout') firstAt(fanoutStarted, seqsInFanoutEvent(r.event, stream), r.handlerStartedAt);
    });
    const transactions: number[] = [];
    const stopRequests = rt.dynamodb.onRequest((q) => q.operation === 'TransactWriteItems' && transactions.push(q.ms));
    const posts: TimedPost[] = [];
    const stopPosts = rt.connections.onPost((p) => posts.push(p));
    const { started, answered, ...result } = await measureDeliveries(
      harness,
      ready.connected,
      publisher,
      rate,
      seconds,
      drain,
    );
    stopInvocations();
    stopRequests();
    stopPosts();
    const stagesMs = Object.fromEntries([
      ...['PostsPublish', 'StreamRouter', 'Fanout'].filter((id) => durations[id]).map((id) => [id, distribution(durations[id] as number[])]),
      ['TransactWriteItems', distribution(transactions)],
    ]);
    const since = (seq: number, t: number | undefined) => (t === undefined || !started.has(seq) ? [] : [t - (started.get(seq) as number)]);
    const postTimes = posts.flatMap((p) => {
      const seq = seqOfFrame(p.frame, stream);
      return seq === undefined ? [] : [{ seq, receivedAt: p.receivedAt, writtenAt: p.writtenAt }];
    });
    const seqs = [...started.keys()];
    const milestonesMs: Record<Milestone, Distribution> = {
      'publish answered': distribution(seqs.flatMap((seq) => since(seq, answered.get(seq)))),
      'stream router started': distribution(seqs.flatMap((seq) => since(seq, routerStarted.get(seq)))),
      'fan-out started': distribution(seqs.flatMap((seq) => since(seq, fanoutStarted.get(seq)))),
      '@connections post received': distribution(postTimes.flatMap((p) => since(p.seq, p.receivedAt))),
      'socket written': distribution(postTimes.flatMap((p) => since(p.seq, p.writtenAt))),
      'client received': result.latencyMs,
    };
    return { sockets, connected: ready.connected, stagesMs, milestonesMs, ...result };
  } finally {
    await harness.close();
  }
}

/** The channel posts (seq) a stream-router event carries, read from the records' new images. */
function seqsInStreamEvent(event: unknown, stream: string): number[] {
  const records = (event as { Records?: { dynamodb?: { NewImage?: { stream?: { S?: string }; seq?: { N?: string } } } }[] }).Records ?? [];
  return records.flatMap((r) => (r.dynamodb?.NewImage?.stream?.S === stream && r.dynamodb.NewImage.seq?.N ? [Number(r.dynamodb.NewImage.seq.N)] : []));
}

/** The channel posts (seq) a fan-out event's queued frames carry. */
function seqsInFanoutEvent(event: unknown, stream: string): number[] {
  const records = (event as { Records?: { body?: string }[] }).Records ?? [];
  return records.flatMap((r) => {
    const message = JSON.parse(r.body ?? '{}') as { deliveries?: { frame?: { stream?: string; seq?: number } }[] };
    return (message.deliveries ?? []).flatMap((d) => (d.frame?.stream === stream && typeof d.frame.seq === 'number' ? [d.frame.seq] : []));
  });
}

function seqOfFrame(frame: string, stream: string): number | undefined {
  const parsed = JSON.parse(frame) as { type?: string; stream?: string; seq?: number };
  return parsed.type === 'delta' && parsed.stream === stream ? parsed.seq : undefined;
}

/** The same harness against a bare HTTP + ws server in its own process. */
export async function floorLatency(sockets: number, rate: number, seconds: number): Promise<LatencyResult> {
  const server = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'floor-server.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ http: number; ws: number }>((resolvePorts) => {
    server.stdout.once('data', (chunk: Buffer) => resolvePorts(JSON.parse(chunk.toString())));
  });
  const harness = new ClientHarness();
  try {
    const ready = await harness.connect(Array.from({ length: sockets }, () => `ws://127.0.0.1:${ports.ws}`));
    const publisher: Publisher = async (n) => {
      await fetch(`http://127.0.0.1:${ports.http}/publish?seq=${n}`, { method: 'POST' });
      return n;
    };
    const drain = async () => undefined;
    await warmUp(publisher, drain);
    const { started: _started, answered: _answered, ...result } = await measureDeliveries(harness, ready.connected, publisher, rate, seconds, drain);
    return { sockets, connected: ready.connected, ...result };
  } finally {
    await harness.close();
    server.kill('SIGTERM');
  }
}

export interface ThroughputResult {
  readonly publishers: number;
  readonly channels: number;
  readonly seconds: number;
  readonly posts: number;
  readonly postsPerSecond: number;
  readonly rateLimited: number;
}

export async function publishThroughput(rt: Runtime, publishers: number, channelCount: number, seconds: number): Promise<ThroughputResult> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channels = await Promise.all(Array.from({ length: channelCount }, (_, i) => createChannel(client, admin, `tp-${i}`)));
  let posts = 0;
  let rateLimited = 0;
  const deadline = wallMs() + seconds * 1000;
  await Promise.all(
    Array.from({ length: publishers }, async (_, p) => {
      for (let i = p; wallMs() < deadline; i += publishers) {
        const channel = channels[i % channels.length] as { id: string };
        try {
          await publish(client, admin, channel.id, `tp ${i}`);
          posts++;
        } catch {
          rateLimited++;
        }
      }
    }),
  );
  await rt.idle();
  return { publishers, channels: channelCount, seconds, posts, postsPerSecond: posts / seconds, rateLimited };
}

export interface OperationCost {
  readonly operation: string;
  readonly requests: Record<string, number>;
  readonly totalRequests: number;
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
}

/**
 * One operation's DynamoDB requests. Unless `withDelivery`, the stream router waits
 * meanwhile, so the delivery an operation triggers is not counted as its own.
 */
async function costOf(rt: Runtime, operation: string, run: () => Promise<unknown>, { withDelivery = false } = {}): Promise<OperationCost> {
  await rt.idle();
  const resume = withDelivery ? () => undefined : rt.pauseStream();
  rt.dynamodb.resetStats();
  try {
    await run();
  } finally {
    resume();
  }
  const stats = rt.dynamodb.stats();
  // The stream poller's GetRecords belong to the event source, not to the operation.
  stats.requests = Object.fromEntries(Object.entries(stats.requests).filter(([op]) => !op.startsWith('Streams.')));
  const totalRequests = Object.values(stats.requests).reduce((a: number, b: number) => a + b, 0);
  return {
    operation,
    requests: stats.requests,
    totalRequests,
    readCapacityUnits: stats.readCapacityUnits,
    writeCapacityUnits: stats.writeCapacityUnits,
  };
}

async function seedPosts(client: Api, admin: string, channelId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => publish(client, admin, channelId, `seed ${i + j}`)));
  }
}

export async function operationCosts(rt: Runtime): Promise<OperationCost[]> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channel = await createChannel(client, admin, `cost-${ulid()}`);
  await seedPosts(client, admin, channel.id, 120);
  await rt.idle();
  const key = ulid();
  let postId = '';
  const costs = [
    await costOf(rt, 'publish', async () => (postId = (await publish(client, admin, channel.id, 'costed', key)).id)),
    await costOf(rt, 'replayed publish', () => publish(client, admin, channel.id, 'costed', key)),
    await costOf(rt, 'page of 20', () => client.call('GET', `/v1/channels/${channel.id}/posts?after_seq=50&limit=20`, admin)),
    await costOf(rt, 'single GET', () => client.call('GET', `/v1/channels/${channel.id}/posts/${postId}`, admin)),
  ];
  // Subscribe with a catch-up of 100 changes, on a socket of its own.
  const harness = new ClientHarness();
  try {
    await grantReaders(rt, channel.id, ['cost-reader']);
    const url = `${rt.endpoints.ws}?token=${await rt.token('cost-reader')}`;
    const head = (await client.call<{ channel: { head_change_seq: number } }>('GET', `/v1/channels/${channel.id}`, admin)).body.channel;
    costs.push(
      await costOf(rt, 'subscribe with catch-up of 100', () =>
        harness.connect([url], { action: 'subscribe', stream: `channel:${channel.id}`, after_change_seq: head.head_change_seq - 100 }),
      ),
    );
    // One delivered delta: what a publish costs with this one subscriber, less the publish itself.
    const withDelivery = await costOf(
      rt,
      'publish + 1 delivery',
      async () => {
        await publish(client, admin, channel.id, 'delivered');
        await rt.idle();
      },
      { withDelivery: true },
    );
    const publishCost = costs[0] as OperationCost;
    costs.push({
      operation: 'one delivered delta',
      requests: Object.fromEntries(
        Object.entries(withDelivery.requests).map(([op, n]) => [op, n - (publishCost.requests[op] ?? 0)]).filter(([, n]) => (n as number) > 0),
      ),
      totalRequests: withDelivery.totalRequests - publishCost.totalRequests,
      readCapacityUnits: withDelivery.readCapacityUnits - publishCost.readCapacityUnits,
      writeCapacityUnits: withDelivery.writeCapacityUnits - publishCost.writeCapacityUnits,
    });
  } finally {
    await harness.close();
  }
  return costs;
}

/** Subscriptions without sockets: the local @connections endpoint counts what is posted to them. */
async function addVirtualSubscribers(rt: Runtime, stream: string, count: number, offset = 0): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `virtual-${stream.slice(-8)}-${offset + i}`);
  rt.connections.addVirtual(ids);
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL_CLIENT, endpoint: rt.endpoints.dynamodb }));
  const expiresAt = Math.floor(rt.clock.now() / 1000) + 3 * 3600;
  for (let i = 0; i < ids.length; i += 25) {
    await ddb.send(
      new BatchWriteCommand({
        RequestItems: {
          [rt.tableNames.connections]: ids.slice(i, i + 25).map((id, j) => ({
            PutRequest: {
              Item: {
                pk: `sub#${stream}`,
                sk: id,
                user_id: `virtual-user-${offset + i + j}`,
                mode: 'FULL',
                decision_expires_at: rt.clock.now() + 3600_000,
                expires_at: expiresAt,
              },
            },
          })),
        },
      }),
    );
  }
  ddb.destroy();
  return ids;
}

export interface FanoutCost {
  readonly subscribers: number;
  readonly sqsMessages: number;
  readonly fanoutInvocations: number;
  readonly streamRouterInvocations: number;
  readonly connectionPosts: number;
}

export async function fanoutCost(rt: Runtime, subscribers: number): Promise<FanoutCost> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channel = await createChannel(client, admin, `fanout-${subscribers}`);
  await addVirtualSubscribers(rt, `channel:${channel.id}`, subscribers);
  await rt.idle();
  const before = { sent: rt.sqs.stats().sent, inv: rt.invocations(), posted: rt.connections.posted() };
  await publish(client, admin, channel.id, 'fan me out');
  await rt.idle(300_000);
  const after = rt.invocations();
  return {
    subscribers,
    sqsMessages: rt.sqs.stats().sent - before.sent,
    fanoutInvocations: (after.Fanout ?? 0) - (before.inv.Fanout ?? 0),
    streamRouterInvocations: (after.StreamRouter ?? 0) - (before.inv.StreamRouter ?? 0),
    connectionPosts: rt.connections.posted() - before.posted,
  };
}

export interface ScaleResult {
  readonly subscriptions: number;
  readonly realSockets: number;
  readonly delivered: number;
  readonly msToLastDelivery: number;
  /** CPU the runtime's process (all its threads: endpoints and function environments) spent per delivery, publish to last post. */
  readonly cpuMicrosPerDelivery: number;
}

/** One post delivered to `total` subscriptions, `real` of them live sockets: time until the last delivery. */
export async function scaleDelivery(rt: Runtime, total: number, real: number): Promise<ScaleResult> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channel = await createChannel(client, admin, `scale-${ulid()}`);
  const stream = `channel:${channel.id}`;
  const harness = new ClientHarness();
  try {
    const readers = Array.from({ length: real }, (_, i) => `scale-${i}`);
    await grantReaders(rt, channel.id, readers);
    const urls = await Promise.all(readers.map(async (reader) => `${rt.endpoints.ws}?token=${await rt.token(reader)}`));
    const ready = await harness.connect(urls, { action: 'subscribe', stream });
    await addVirtualSubscribers(rt, stream, total - ready.connected);
    await rt.idle(300_000);
    const postedBefore = rt.connections.posted();
    const cpuBefore = process.cpuUsage();
    const start = wallMs();
    const post = await publish(client, admin, channel.id, 'to everyone');
    while (rt.connections.posted() - postedBefore < total && wallMs() - start < 60_000) await sleep(2);
    const lastPost = wallMs();
    const cpu = process.cpuUsage(cpuBefore);
    await rt.idle(300_000);
    const { receipts } = await harness.collect();
    const socketTimes = receipts.filter(([seq]) => seq === post.seq).map(([, t]) => t);
    const last = Math.max(lastPost, ...socketTimes);
    return {
      subscriptions: total,
      realSockets: ready.connected,
      delivered: rt.connections.posted() - postedBefore,
      msToLastDelivery: last - start,
      cpuMicrosPerDelivery: (cpu.user + cpu.system) / Math.max(1, rt.connections.posted() - postedBefore),
    };
  } finally {
    await harness.close();
  }
}

export interface GapCatchUpResult {
  readonly posts: number;
  readonly readablePosts: number;
  readonly withGap: { pages: number; emptyPages: number; maxQueriesPerPage: number; meanQueriesPerPage: number };
  readonly withoutGap: { pages: number; emptyPages: number; maxQueriesPerPage: number; meanQueriesPerPage: number };
}

/** Scenario 4: a reader with a hidden middle range pages a long channel; Queries per page vs a reader without a gap. */
export async function catchUpAcrossGap(rt: Runtime, posts: number): Promise<GapCatchUpResult> {
  const client = api(rt.endpoints.http);
  const admin = await rt.token('bench-admin', ['platform_admin']);
  const channel = await createChannel(client, admin, `gap-${ulid()}`);
  const stream = `channel:${channel.id}`;
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL_CLIENT, endpoint: rt.endpoints.dynamodb }));
  const stepMs = 10 * 60 * 1000;
  const base = rt.clock.now() - (posts + 10) * stepMs;
  const at = (seq: number) => new Date(base + seq * stepMs).toISOString();
  for (let seq = 1; seq <= posts; seq += 25) {
    const items = Array.from({ length: Math.min(25, posts - seq + 1) }, (_, i) => ({
      PutRequest: {
        Item: { stream, seq: seq + i, id: ulid(), kind: 'post', rev: 1, change_seq: seq + i, author_id: 'bench-admin', body_text: `p${seq + i}`, attachments: [], is_deleted: false, created_at: at(seq + i) },
      },
    }));
    await ddb.send(new BatchWriteCommand({ RequestItems: { [rt.tableNames.entries]: items } }));
  }
  await ddb.send(
    new UpdateCommand({
      TableName: rt.tableNames.catalog,
      Key: { pk: `channel#${channel.id}`, sk: 'head' },
      UpdateExpression: 'SET head_seq = :n, head_change_seq = :n, last_created_at = :t',
      ExpressionAttributeValues: { ':n': posts, ':t': at(posts) },
    }),
  );
  ddb.destroy();
  await rt.idle(120_000);
  // Lapsed after 30 %, back from 70 % with no backfill: the middle 40 % stays hidden.
  const lambda = new LambdaClient({ ...LOCAL_CLIENT, endpoint: rt.endpoints.lambda });
  const invoke = (payload: unknown) => lambda.send(new InvokeCommand({ FunctionName: 'access-provider', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  const lapseAt = Math.floor(posts * 0.3);
  const backAt = Math.floor(posts * 0.7);
  await invoke({ type: 'RecordSubscription', user_id: 'gap-reader', channel_id: channel.id, start: at(0), end: at(lapseAt) });
  await invoke({ type: 'RecordSubscription', user_id: 'gap-reader', channel_id: channel.id, start: at(backAt) });
  lambda.destroy();

  const pageThrough = async (token: string) => {
    const queries: number[] = [];
    let emptyPages = 0;
    let seen = 0;
    for (let after = 0, more = true; more; ) {
      rt.dynamodb.resetStats();
      const res = await client.call<{ posts: { seq: number }[]; has_more: boolean }>('GET', `/v1/channels/${channel.id}/posts?after_seq=${after}&limit=100`, token);
      if (res.status !== 200) throw new Error(`page: ${res.status}`);
      queries.push(rt.dynamodb.stats().requests.Query ?? 0);
      if (res.body.posts.length === 0) emptyPages++;
      seen += res.body.posts.length;
      after = res.body.posts.at(-1)?.seq ?? after;
      more = res.body.has_more;
    }
    const steady = queries.slice(1);
    return {
      seen,
      pages: queries.length,
      emptyPages,
      maxQueriesPerPage: Math.max(...steady, 0),
      meanQueriesPerPage: steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length),
    };
  };
  const withGap = await pageThrough(await rt.token('gap-reader'));
  const withoutGap = await pageThrough(admin);
  return {
    posts,
    readablePosts: withGap.seen,
    withGap: { pages: withGap.pages, emptyPages: withGap.emptyPages, maxQueriesPerPage: withGap.maxQueriesPerPage, meanQueriesPerPage: withGap.meanQueriesPerPage },
    withoutGap: { pages: withoutGap.pages, emptyPages: withoutGap.emptyPages, maxQueriesPerPage: withoutGap.maxQueriesPerPage, meanQueriesPerPage: withoutGap.meanQueriesPerPage },
  };
}
