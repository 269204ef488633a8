/**
 * Broadcast publishing end to end through the local runtime (real DynamoDB semantics:
 * transactions, conditions, streams): positions under contention, idempotency, and
 * tombstones.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../bench/api';
import { startRuntime } from '../../local/runtime';
import type { Post } from '../../shared/streams/entry';

type Runtime = Awaited<ReturnType<typeof startRuntime>>;

let rt: Runtime;
let admin: string;
let reader: string;
let entriesTable: DynamoDBDocumentClient;

interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

const call = <T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> =>
  api(rt.endpoints.http).call<T>(method, path, token, body, headers);

async function createChannel(): Promise<string> {
  const res = await call<{ channel: { id: string } }>('POST', '/v1/channels', admin, { name: `c-${ulid()}` });
  expect(res.status).toBe(201);
  return res.body.channel.id;
}

const publish = (channelId: string, body: unknown, key: string, token = admin) =>
  call<{ post: Post }>('POST', `/v1/channels/${channelId}/posts`, token, body, { 'idempotency-key': key });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes, retrying 429s with the same key as a client would. */
async function publishAccepted(channelId: string, text: string): Promise<Post> {
  const key = ulid();
  for (;;) {
    const res = await publish(channelId, { body_text: text }, key);
    if (res.status === 201) return res.body.post;
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    await sleep(retryAfter * 1000 * (0.5 + Math.random()));
  }
}

/** Every stored entry of a channel, by seq, read strongly consistently from the entries table. */
async function storedEntries(channelId: string): Promise<{ seq: number; id: string; change_seq: number }[]> {
  const out: { seq: number; id: string; change_seq: number }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await entriesTable.send(
      new QueryCommand({
        TableName: rt.tableNames.entries,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'stream' },
        ExpressionAttributeValues: { ':s': `channel:${channelId}` },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...((page.Items ?? []) as { seq: number; id: string; change_seq: number }[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** All posts through the public pages (ascending by after_seq). */
async function allPages(channelId: string, limit: number): Promise<Post[][]> {
  const pages: Post[][] = [];
  let after = 0;
  for (;;) {
    const res = await call<{ posts: Post[]; has_more: boolean }>('GET', `/v1/channels/${channelId}/posts?after_seq=${after}&limit=${limit}`, admin);
    expect(res.status).toBe(200);
    pages.push(res.body.posts);
    if (!res.body.has_more) return pages;
    after = res.body.posts.at(-1)?.seq ?? after;
  }
}

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  // Minted once, with an expiry beyond the clock moves below.
  admin = await rt.token('admin-1', ['platform_admin'], { expiresInSeconds: 3 * 24 * 3600 });
  reader = await rt.token('reader-1', [], { expiresInSeconds: 3 * 24 * 3600 });
  entriesTable = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.endpoints.dynamodb }));
});

afterAll(async () => {
  entriesTable?.destroy();
  await rt?.stop();
});

describe('sequence positions under contention', () => {
  it('gives 50 concurrent publishers × 20 posts exactly seqs 1..1000, each post readable, pages in order without gaps', async () => {
    const channelId = await createChannel();
    const published = (
      await Promise.all(
        Array.from({ length: 50 }, async (_, p) => {
          const mine: Post[] = [];
          for (let i = 0; i < 20; i++) mine.push(await publishAccepted(channelId, `publisher ${p} post ${i}`));
          return mine;
        }),
      )
    ).flat();

    const seqs = published.map((p) => p.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    // A create advances change_seq with seq: no change_seq reused or skipped either.
    expect(new Set(published.map((p) => p.change_seq)).size).toBe(1000);
    // created_at never decreases along seq.
    const bySeq = [...published].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < bySeq.length; i++) expect(bySeq[i]!.created_at >= bySeq[i - 1]!.created_at).toBe(true);

    const stored = await storedEntries(channelId);
    expect(stored.map((e) => e.seq)).toEqual(seqs);
    expect(new Set(stored.map((e) => e.id))).toEqual(new Set(published.map((p) => p.id)));

    const pages = await allPages(channelId, 100);
    const paged = pages.flat();
    expect(paged.map((p) => p.seq)).toEqual(seqs);
    expect(paged.map((p) => p.id)).toEqual(bySeq.map((p) => p.id));

    const head = await call<{ channel: { head_seq: number; head_change_seq: number } }>('GET', `/v1/channels/${channelId}`, admin);
    expect(head.body.channel).toMatchObject({ head_seq: 1000, head_change_seq: 1000 });
  }, 180_000);
});

describe('idempotent publishing', () => {
  it('turns 100 concurrent requests with one key and one payload into one post with identical answers', async () => {
    const channelId = await createChannel();
    const key = ulid();
    const replies = await Promise.all(Array.from({ length: 100 }, () => publish(channelId, { body_text: 'once' }, key)));

    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(replies.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(replies.filter((r) => r.headers.get('idempotency-replayed') === 'true')).toHaveLength(99);
    expect(await storedEntries(channelId)).toHaveLength(1);
  }, 60_000);

  it('answers 409 idempotency_key_reused for the same key with another payload', async () => {
    const channelId = await createChannel();
    const key = ulid();
    expect((await publish(channelId, { body_text: 'first' }, key)).status).toBe(201);
    const reused = await publish(channelId, { body_text: 'second' }, key);
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    expect(await storedEntries(channelId)).toHaveLength(1);
  });

  it('treats a key as new once its record expired, whether or not it was swept', async () => {
    const channelId = await createChannel();
    const key = ulid();
    const first = await publish(channelId, { body_text: 'daily' }, key);
    expect(first.status).toBe(201);
    rt.clock.advance(24 * 3600 * 1000 + 1000);
    const again = await publish(channelId, { body_text: 'daily' }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBeNull();
    expect(again.body.post.id).not.toBe(first.body.post.id);
    expect(again.body.post.seq).toBe(first.body.post.seq + 1);
  });

  it('requires an Idempotency-Key', async () => {
    const channelId = await createChannel();
    const res = await call('POST', `/v1/channels/${channelId}/posts`, admin, { body_text: 'no key' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('lets only channel admins publish, edit and delete', async () => {
    const channelId = await createChannel();
    const post = (await publish(channelId, { body_text: 'admins only' }, ulid())).body.post;
    expect((await publish(channelId, { body_text: 'me too' }, ulid(), reader)).status).toBe(403);
    expect((await call('PATCH', `/v1/channels/${channelId}/posts/${post.id}`, reader, { body_text: 'x' })).status).toBe(403);
    expect((await call('DELETE', `/v1/channels/${channelId}/posts/${post.id}`, reader)).status).toBe(403);
  });
});

describe('tombstones', () => {
  it('keep the deleted post’s seq: pages before and after the delete differ only by the tombstone', async () => {
    const channelId = await createChannel();
    const posts: Post[] = [];
    for (let i = 1; i <= 7; i++) posts.push((await publish(channelId, { body_text: `post ${i}` }, ulid())).body.post);
    const victim = posts[3] as Post;

    const before = await allPages(channelId, 3);
    const deleted = await call<{ post: Post }>('DELETE', `/v1/channels/${channelId}/posts/${victim.id}`, admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body.post).toMatchObject({ id: victim.id, seq: victim.seq, rev: 2, is_deleted: true, body_text: null, attachments: [] });
    const after = await allPages(channelId, 3);

    expect(after.map((page) => page.map((p) => p.seq))).toEqual(before.map((page) => page.map((p) => p.seq)));
    const strip = (pages: Post[][]) => pages.map((page) => page.filter((p) => p.id !== victim.id));
    expect(strip(after)).toEqual(strip(before));
    expect(after.flat().find((p) => p.id === victim.id)).toEqual(deleted.body.post);

    // Deleting the tombstone again answers the same tombstone and changes nothing.
    const again = await call<{ post: Post }>('DELETE', `/v1/channels/${channelId}/posts/${victim.id}`, admin);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(deleted.body);
    const head = await call<{ channel: { head_change_seq: number } }>('GET', `/v1/channels/${channelId}`, admin);
    expect(head.body.channel.head_change_seq).toBe(8);
  });

  it('edits keep the seq and advance rev and change_seq', async () => {
    const channelId = await createChannel();
    const post = (await publish(channelId, { body_text: 'draft' }, ulid())).body.post;
    await publish(channelId, { body_text: 'other' }, ulid());
    const edited = await call<{ post: Post }>('PATCH', `/v1/channels/${channelId}/posts/${post.id}`, admin, { body_text: 'final' });
    expect(edited.status).toBe(200);
    expect(edited.body.post).toMatchObject({ id: post.id, seq: 1, rev: 2, change_seq: 3, body_text: 'final' });
    expect(edited.body.post.edited_at).toEqual(expect.any(String));
  });
});
