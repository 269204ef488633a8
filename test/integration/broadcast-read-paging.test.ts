/**
 * Reading a broadcast channel end to end through the local runtime: history pages by
 * seq in both directions, the newest page, single posts, tombstones and /changes.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api } from '../../bench/api';
import { startRuntime } from '../../local/runtime';
import type { Post } from '../../shared/streams/entry';

type Runtime = Awaited<ReturnType<typeof startRuntime>>;

interface Reply<T> {
  readonly status: number;
  readonly body: T;
}

interface PostsPage {
  readonly posts: Post[];
  readonly has_more: boolean;
}

const POSTS = 45;

let rt: Runtime;
let admin: string;
let channelId: string;
let published: Post[];

const call = <T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> =>
  api(rt.endpoints.http).call<T>(method, path, token, body, headers);

const page = (query: string, token = admin) => call<PostsPage>('GET', `/v1/channels/${channelId}/posts${query}`, token);
const seqs = (posts: Post[]) => posts.map((p) => p.seq);
const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  admin = await rt.token('admin-1', ['platform_admin']);
  const created = await call<{ channel: { id: string } }>('POST', '/v1/channels', admin, { name: `read-${ulid()}` });
  expect(created.status).toBe(201);
  channelId = created.body.channel.id;
  published = [];
  for (let i = 1; i <= POSTS; i++) {
    const res = await call<{ post: Post }>('POST', `/v1/channels/${channelId}/posts`, admin, { body_text: `post ${i}` }, { 'idempotency-key': ulid() });
    expect(res.status).toBe(201);
    published.push(res.body.post);
  }
});

// Fresh each time: a test may move the runtime's clock past a token's expiry.
beforeEach(async () => {
  admin = await rt.token('admin-1', ['platform_admin']);
});

afterAll(async () => {
  await rt?.stop();
});

describe('history pages of a broadcast channel', () => {
  it('pages ascending with after_seq in order, without gaps, has_more false only on the last page', async () => {
    const pages: PostsPage[] = [];
    let after = 0;
    for (;;) {
      const res = await page(`?after_seq=${after}&limit=10`);
      expect(res.status).toBe(200);
      pages.push(res.body);
      if (!res.body.has_more) break;
      after = res.body.posts.at(-1)?.seq ?? after;
    }
    expect(pages.map((p) => p.posts.length)).toEqual([10, 10, 10, 10, 5]);
    expect(pages.flatMap((p) => seqs(p.posts))).toEqual(range(1, POSTS));
    expect(pages.flatMap((p) => p.posts.map((post) => post.id))).toEqual(published.map((p) => p.id));
  });

  it('answers the newest page, descending, when no cursor is given', async () => {
    const res = await page('?limit=10');
    expect(res.status).toBe(200);
    expect(seqs(res.body.posts)).toEqual(range(POSTS, POSTS - 9));
    expect(res.body.has_more).toBe(true);
    const byDefault = await page('');
    expect(seqs(byDefault.body.posts)).toEqual(range(POSTS, POSTS - 19));
  });

  it('pages descending with before_seq down to the first post', async () => {
    const middle = await page('?before_seq=36&limit=10');
    expect(seqs(middle.body.posts)).toEqual(range(35, 26));
    expect(middle.body.has_more).toBe(true);
    const first = await page('?before_seq=5&limit=10');
    expect(seqs(first.body.posts)).toEqual([4, 3, 2, 1]);
    expect(first.body.has_more).toBe(false);
  });

  it('answers an empty last page past the head', async () => {
    const res = await page(`?after_seq=${POSTS}`);
    expect(res.body).toEqual({ posts: [], has_more: false });
  });

  it('answers 400 to both cursors, to a bad limit and to an unknown parameter', async () => {
    for (const query of ['?after_seq=1&before_seq=3', '?limit=0', '?limit=101', '?after_seq=x', '?page=2']) {
      const res = await page(query);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('answers 404 for an unknown channel', async () => {
    const res = await call('GET', `/v1/channels/${ulid()}/posts`, admin);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('single posts, tombstones and changes', () => {
  it('answers one post by id, and 404 for an unknown id', async () => {
    const target = published[11] as Post;
    const res = await call<{ post: Post }>('GET', `/v1/channels/${channelId}/posts/${target.id}`, admin);
    expect(res.status).toBe(200);
    expect(res.body.post).toEqual(target);
    const unknown = await call('GET', `/v1/channels/${channelId}/posts/${ulid()}`, admin);
    expect(unknown.status).toBe(404);
  });

  it('keeps a deleted post at its seq, as a tombstone, in pages, by id and in changes', async () => {
    const target = published[6] as Post;
    const edited = published[2] as Post;
    const before = await page('?limit=1');
    const headChange = (await call<{ channel: { head_change_seq: number } }>('GET', `/v1/channels/${channelId}`, admin)).body.channel.head_change_seq;
    expect((await call('PATCH', `/v1/channels/${channelId}/posts/${edited.id}`, admin, { body_text: 'edited' })).status).toBe(200);
    expect((await call('DELETE', `/v1/channels/${channelId}/posts/${target.id}`, admin)).status).toBe(200);

    const around = await page('?after_seq=5&limit=3');
    expect(seqs(around.body.posts)).toEqual([6, 7, 8]);
    expect(around.body.posts[1]).toMatchObject({ id: target.id, seq: 7, is_deleted: true, body_text: null, attachments: [], rev: 2 });

    const byId = await call<{ post: Post }>('GET', `/v1/channels/${channelId}/posts/${target.id}`, admin);
    expect(byId.body.post).toMatchObject({ seq: 7, is_deleted: true });

    const changes = await call<{ changes: Post[]; has_more: boolean }>('GET', `/v1/channels/${channelId}/changes?after_change_seq=${headChange}`, admin);
    expect(changes.status).toBe(200);
    expect(changes.body.changes.map((c) => [c.seq, c.change_seq, c.is_deleted, c.body_text])).toEqual([
      [3, headChange + 1, false, 'edited'],
      [7, headChange + 2, true, null],
    ]);
    expect(changes.body.has_more).toBe(false);
    // Edits and deletes take no new seq: the head page is unchanged.
    expect(seqs((await page('?limit=1')).body.posts)).toEqual(seqs(before.body.posts));
  });
});
