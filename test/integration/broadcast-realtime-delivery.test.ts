/**
 * Realtime delivery of channel changes end to end through the local runtime: entries
 * stream → stream router → fan-out queue → fan-out → WebSocket, and catch-up on
 * re-subscribe.
 */
import { ulid } from 'ulid';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime } from '../../local/runtime';
import type { Post } from '../../shared/streams/entry';

type Runtime = Awaited<ReturnType<typeof startRuntime>>;
type Frame = Record<string, unknown> & { type: string };

let rt: Runtime;
let admin: string;

async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${rt.endpoints.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function createChannel(): Promise<string> {
  const res = await call<{ channel: { id: string } }>('POST', '/v1/channels', admin, { name: `rt-${ulid()}` });
  expect(res.status).toBe(201);
  return res.body.channel.id;
}

async function publish(channelId: string, text: string): Promise<Post> {
  const res = await call<{ post: Post }>('POST', `/v1/channels/${channelId}/posts`, admin, { body_text: text }, { 'idempotency-key': ulid() });
  expect(res.status).toBe(201);
  return res.body.post;
}

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

  deltas(stream: string): Frame[] {
    return this.frames.filter((f) => f.type === 'delta' && f.stream === stream);
  }

  async close(): Promise<void> {
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    await closed;
  }
}

const changeSeqs = (frames: Frame[]) => frames.map((f) => f.change_seq as number).sort((a, b) => a - b);

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  // Minted once, valid past the clock moves below: the authorizer checks nbf against real time.
  admin = await rt.token('admin-1', ['platform_admin'], { expiresInSeconds: 24 * 3600 });
});

afterAll(async () => {
  await rt?.stop();
});

describe('live deltas', () => {
  it('reach a subscriber connected before publishing once each, ids only', async () => {
    const channelId = await createChannel();
    const stream = `channel:${channelId}`;
    const client = await Client.open(admin);
    try {
      expect(await client.subscribe(stream)).toMatchObject({ type: 'subscribed', stream, head_seq: 0, head_change_seq: 0, live: true });

      const posts: Post[] = [];
      for (let i = 0; i < 5; i++) posts.push(await publish(channelId, `secret text ${i}`));
      await rt.idle();
      await client.next((f) => f.type === 'delta' && f.change_seq === 5);

      const deltas = client.deltas(stream);
      expect(deltas).toHaveLength(5);
      expect(deltas.sort((a, b) => (a.change_seq as number) - (b.change_seq as number))).toEqual(
        posts.map((p) => ({ type: 'delta', stream, seq: p.seq, id: p.id, op: 'created', rev: 1, change_seq: p.change_seq })),
      );
      expect(JSON.stringify(client.frames)).not.toContain('secret text');
    } finally {
      await client.close();
    }
  });

  it('still arrive when a fan-out post fails once (redelivered after the visibility timeout)', async () => {
    const channelId = await createChannel();
    const stream = `channel:${channelId}`;
    const client = await Client.open(admin);
    try {
      await client.subscribe(stream);
      const failedAttempt = new Promise<void>((resolve) => {
        const off = rt.onInvocation((record) => {
          if (record.functionId !== 'Fanout') return;
          off();
          resolve();
        });
      });
      rt.connections.failNext(1);
      const post = await publish(channelId, 'must not be lost');
      await failedAttempt;
      expect(client.deltas(stream)).toHaveLength(0);

      // Past the fan-out queue's visibility timeout: SQS hands the message out again.
      rt.clock.advance(31_000);
      await rt.idle();
      const delta = await client.next((f) => f.type === 'delta' && f.id === post.id);
      expect(delta).toMatchObject({ seq: post.seq, change_seq: post.change_seq, op: 'created' });
      // At least once: a duplicate is allowed, loss is not.
      expect(client.deltas(stream).length).toBeGreaterThanOrEqual(1);
    } finally {
      await client.close();
    }
  });
});

describe('catch-up on re-subscribe', () => {
  it('delivers exactly what changed while away, edits and deletes of older posts included', async () => {
    const channelId = await createChannel();
    const stream = `channel:${channelId}`;
    const first = await Client.open(admin);
    const older: Post[] = [];
    let lastApplied: number;
    try {
      await first.subscribe(stream);
      for (let i = 0; i < 3; i++) older.push(await publish(channelId, `older ${i}`));
      await rt.idle();
      await first.next((f) => f.type === 'delta' && f.change_seq === 3);
      lastApplied = Math.max(...changeSeqs(first.deltas(stream)));
    } finally {
      await first.close();
    }

    // While away: two new posts, an edit and a delete of older posts.
    const fresh = [await publish(channelId, 'new 1'), await publish(channelId, 'new 2')];
    const edited = await call<{ post: Post }>('PATCH', `/v1/channels/${channelId}/posts/${older[0]!.id}`, admin, { body_text: 'older 0, edited' });
    const deleted = await call<{ post: Post }>('DELETE', `/v1/channels/${channelId}/posts/${older[1]!.id}`, admin);
    await rt.idle();

    const second = await Client.open(admin);
    try {
      const subscribed = await second.subscribe(stream, lastApplied);
      expect(subscribed).toEqual({ type: 'subscribed', stream, head_seq: 5, head_change_seq: 7, live: true });
      const caughtUp = second.deltas(stream);
      expect(caughtUp).toEqual([
        { type: 'delta', stream, seq: fresh[0]!.seq, id: fresh[0]!.id, op: 'created', rev: 1, change_seq: 4 },
        { type: 'delta', stream, seq: fresh[1]!.seq, id: fresh[1]!.id, op: 'created', rev: 1, change_seq: 5 },
        { type: 'delta', stream, seq: older[0]!.seq, id: older[0]!.id, op: 'updated', rev: 2, change_seq: edited.body.post.change_seq },
        { type: 'delta', stream, seq: older[1]!.seq, id: older[1]!.id, op: 'deleted', rev: 2, change_seq: deleted.body.post.change_seq },
      ]);
      // Catch-up frames precede the subscribed answer.
      expect(second.frames.findIndex((f) => f.type === 'subscribed')).toBe(4);

      // And it is live again.
      const next = await publish(channelId, 'after return');
      await rt.idle();
      await second.next((f) => f.type === 'delta' && f.id === next.id);
    } finally {
      await second.close();
    }
  });

  it('refuses an unknown channel with a not_found error frame', async () => {
    const client = await Client.open(admin);
    try {
      const stream = `channel:${ulid()}`;
      expect(await client.subscribe(stream)).toMatchObject({ type: 'error', stream, code: 'not_found' });
    } finally {
      await client.close();
    }
  });
});
