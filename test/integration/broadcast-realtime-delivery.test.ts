/**
 * Realtime delivery of channel changes end to end through the local runtime: entries
 * stream → stream router → fan-out queue → fan-out → WebSocket, and catch-up on
 * re-subscribe.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ulid } from 'ulid';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createChannel, publish as publishVia, type Api } from '../../bench/api';
import { startRuntime } from '../../local/runtime';
import type { Post } from '../../shared/streams/entry';

type Runtime = Awaited<ReturnType<typeof startRuntime>>;
type Frame = Record<string, unknown> & { type: string };

let rt: Runtime;
let http: Api;
let admin: string;
let reader: string;
let lambda: LambdaClient;

const publish = async (channelId: string, text: string) => (await publishVia(http, admin, channelId, text)) as Post;
const newChannel = async () => (await createChannel(http, admin, `rt-${ulid()}`)).id;

/** The default access provider's entitlement commands (what an internal service sends). */
async function provider(payload: Record<string, unknown>): Promise<void> {
  const res = await lambda.send(new InvokeCommand({ FunctionName: 'access-provider', Payload: Buffer.from(JSON.stringify(payload)) }));
  expect(res.FunctionError, Buffer.from(res.Payload ?? []).toString()).toBeUndefined();
}

const isoAgo = (ms: number) => new Date(rt.clock.now() - ms).toISOString();

/** A WebSocket client that keeps every frame it receives. */
class Client {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(token: string): Promise<Client> {
    const socket = new WebSocket(`${rt.endpoints.ws}?token=${token}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Client(socket);
  }

  /** The first frame from index `from` on that matches; waits for it (bounded). */
  async next(match: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (let round = 0; round < 200; round++) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 25);
      });
    }
    throw new Error(`no matching frame among ${JSON.stringify(this.frames)}`);
  }

  async subscribe(stream: string, afterChangeSeq?: number): Promise<Frame> {
    const from = this.frames.length;
    this.socket.send(JSON.stringify({ action: 'subscribe', stream, ...(afterChangeSeq === undefined ? {} : { after_change_seq: afterChangeSeq }) }));
    return this.next((f) => (f.type === 'subscribed' || f.type === 'error') && f.stream === stream, from);
  }

  deltaIds(stream: string): unknown[] {
    return this.deltas(stream).map((f) => f.id);
  }

  deltas(stream: string): Frame[] {
    return this.frames.filter((f) => f.type === 'delta' && f.stream === stream);
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    await closed;
  }
}

/** Runs `test` with a connected client (closed afterwards). */
async function withClient(token: string, test: (client: Client) => Promise<void>): Promise<void> {
  const client = await Client.open(token);
  try {
    await test(client);
  } finally {
    await client.close();
  }
}

/** Resolves when the next fan-out invocation ends. */
function nextFanout(): Promise<void> {
  return new Promise((resolve) => {
    const off = rt.onInvocation((record) => {
      if (record.functionId !== 'Fanout') return;
      off();
      resolve();
    });
  });
}

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  http = api(rt.endpoints.http);
  // Minted once, with an expiry beyond the clock moves below.
  admin = await rt.token('admin-1', ['platform_admin'], { expiresInSeconds: 24 * 3600 });
  reader = await rt.token('reader-1', [], { expiresInSeconds: 24 * 3600 });
  lambda = new LambdaClient({ endpoint: rt.endpoints.lambda });
});

afterAll(async () => {
  lambda?.destroy();
  await rt?.stop();
});

describe('live deltas', () => {
  it('reach a subscriber connected before publishing once each, ids only', async () => {
    const channelId = await newChannel();
    const stream = `channel:${channelId}`;
    await withClient(admin, async (client) => {
      expect(await client.subscribe(stream)).toEqual({ type: 'subscribed', stream, head_seq: 0, head_change_seq: 0, live: true });
      const posts: Post[] = [];
      for (let i = 0; i < 5; i++) posts.push(await publish(channelId, `secret text ${i}`));
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.change_seq === 5);

      const deltas = client.deltas(stream).sort((a, b) => (a.change_seq as number) - (b.change_seq as number));
      expect(deltas).toEqual(posts.map((p) => ({ type: 'delta', stream, seq: p.seq, id: p.id, op: 'created', rev: 1, change_seq: p.change_seq })));
      expect(JSON.stringify(client.frames)).not.toContain('secret text');
    });
  });

  it('still arrive when a fan-out post fails once', async () => {
    const channelId = await newChannel();
    await withClient(admin, async (client) => {
      await client.subscribe(`channel:${channelId}`);
      const attempt = nextFanout();
      rt.connections.failNext(1);
      const post = await publish(channelId, 'must not be lost');
      await attempt;
      // Past the fan-out queue's visibility timeout, in case the message had to come back.
      rt.clock.advance(31_000);
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.id === post.id);
      // At least once: a duplicate is allowed, loss is not.
      expect(new Set(client.deltaIds(`channel:${channelId}`))).toEqual(new Set([post.id]));
    });
  });

  it('are redelivered by the queue when a fan-out message fails', async () => {
    const channelId = await newChannel();
    await withClient(admin, async (client) => {
      await client.subscribe(`channel:${channelId}`);
      const attempt = nextFanout();
      // More failures than the SDK's own attempts: the message itself fails.
      rt.connections.failNext(3);
      const post = await publish(channelId, 'must come back');
      await attempt;
      expect(client.deltas(`channel:${channelId}`)).toHaveLength(0);
      expect(rt.sqs.stats().byQueue['local-fanout']).toMatchObject({ inFlight: 1 });

      rt.clock.advance(31_000);
      await rt.idle();
      const delta = await client.next((f) => f.type === 'delta' && f.id === post.id);
      expect(delta).toMatchObject({ seq: post.seq, change_seq: post.change_seq, op: 'created' });
    });
  });
});

describe('catch-up on re-subscribe', () => {
  it('delivers exactly what changed while away, edits and deletes of older posts included', async () => {
    const channelId = await newChannel();
    const stream = `channel:${channelId}`;
    const older: Post[] = [];
    let lastApplied = -1;
    await withClient(admin, async (client) => {
      await client.subscribe(stream);
      for (let i = 0; i < 3; i++) older.push(await publish(channelId, `older ${i}`));
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.change_seq === 3);
      lastApplied = Math.max(...client.deltas(stream).map((f) => f.change_seq as number));
    });

    // While away: two new posts, an edit and a delete of older posts.
    const fresh = [await publish(channelId, 'new 1'), await publish(channelId, 'new 2')];
    const edited = await http.call<{ post: Post }>('PATCH', `/v1/channels/${channelId}/posts/${older[0]!.id}`, admin, { body_text: 'older 0, edited' });
    const deleted = await http.call<{ post: Post }>('DELETE', `/v1/channels/${channelId}/posts/${older[1]!.id}`, admin);
    await rt.idle();

    await withClient(admin, async (client) => {
      expect(await client.subscribe(stream, lastApplied)).toEqual({ type: 'subscribed', stream, head_seq: 5, head_change_seq: 7, live: true });
      expect(client.deltas(stream)).toEqual([
        { type: 'delta', stream, seq: fresh[0]!.seq, id: fresh[0]!.id, op: 'created', rev: 1, change_seq: 4 },
        { type: 'delta', stream, seq: fresh[1]!.seq, id: fresh[1]!.id, op: 'created', rev: 1, change_seq: 5 },
        { type: 'delta', stream, seq: older[0]!.seq, id: older[0]!.id, op: 'updated', rev: 2, change_seq: edited.body.post.change_seq },
        { type: 'delta', stream, seq: older[1]!.seq, id: older[1]!.id, op: 'deleted', rev: 2, change_seq: deleted.body.post.change_seq },
      ]);
      // Catch-up frames precede the subscribed answer.
      expect(client.frames.findIndex((f) => f.type === 'subscribed')).toBe(4);

      // And it is live again.
      const next = await publish(channelId, 'after return');
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.id === next.id);
    });
  });

  it('refuses an unknown channel with a not_found error frame', async () => {
    await withClient(admin, async (client) => {
      const stream = `channel:${ulid()}`;
      expect(await client.subscribe(stream)).toMatchObject({ type: 'error', stream, code: 'not_found' });
    });
  });
});

describe('access on the live path', () => {
  it('ends a subscription whose entitlement ended: access_changed, then no more deltas', async () => {
    const channelId = await newChannel();
    const stream = `channel:${channelId}`;
    await provider({ type: 'RecordSubscription', user_id: 'reader-1', channel_id: channelId, start: isoAgo(86_400_000) });
    await withClient(reader, async (client) => {
      expect(await client.subscribe(stream)).toMatchObject({ type: 'subscribed', live: true });
      const seen = await publish(channelId, 'while subscribed');
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.id === seen.id);

      await provider({ type: 'EndSubscription', user_id: 'reader-1', channel_id: channelId, end: isoAgo(0) });
      // Past every cached decision (ttl_seconds ≤ 300).
      rt.clock.advance(301_000);
      await publish(channelId, 'after the end');
      await rt.idle();
      await client.next((f) => f.type === 'access_changed' && f.stream === stream);
      await publish(channelId, 'long after the end');
      await rt.idle();

      expect(client.deltaIds(stream)).toEqual([seen.id]);
      expect(client.frames.filter((f) => f.type === 'access_changed')).toHaveLength(1);
    });
  });

  it('gives an archive-only reader the catch-up inside its windows but no live deltas', async () => {
    const channelId = await newChannel();
    const stream = `channel:${channelId}`;
    const inside = await publish(channelId, 'inside the archive');
    await provider({ type: 'RecordSubscription', user_id: 'reader-1', channel_id: channelId, start: isoAgo(86_400_000) });
    await provider({ type: 'EndSubscription', user_id: 'reader-1', channel_id: channelId, end: isoAgo(0) });
    rt.clock.advance(1_000);
    await publish(channelId, 'after the archive');

    await withClient(reader, async (client) => {
      expect(await client.subscribe(stream, 0)).toEqual({ type: 'subscribed', stream, head_seq: 2, head_change_seq: 2, live: false });
      await publish(channelId, 'not for archive readers');
      await rt.idle();
      expect(client.deltaIds(stream)).toEqual([inside.id]);
    });
  });

  it('refuses a reader without any entitlement', async () => {
    const channelId = await newChannel();
    await withClient(reader, async (client) => {
      expect(await client.subscribe(`channel:${channelId}`)).toMatchObject({ type: 'error', code: 'access_denied' });
    });
  });
});
