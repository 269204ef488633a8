/**
 * Read windows on HTTP, end to end through the local runtime and its default access
 * provider: a reader who lapsed and re-subscribed (7-day backfill) pages a 10,000-post
 * channel; the hidden middle never shows, costs nothing, and no page is empty.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime } from '../../local/runtime';
import type { EntryItem, Post } from '../../shared/streams/entry';

type Runtime = Awaited<ReturnType<typeof startRuntime>>;

interface PostsPage {
  readonly posts: Post[];
  readonly has_more: boolean;
}

const TOTAL = 10_000;
/** One post every 10 minutes: 10,000 posts span about 69 days. */
const SPACING_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const BACKFILL_DAYS = 7;
/** Readable: 1..LAPSE_SEQ (first period), BACKFILL_FROM..TOTAL (second period less the backfill). */
const LAPSE_SEQ = 3_000;
const RESUBSCRIBE_SEQ = 8_009;
const BACKFILL_FROM = RESUBSCRIBE_SEQ - (BACKFILL_DAYS * DAY_MS) / SPACING_MS;

let rt: Runtime;
let doc: DynamoDBDocumentClient;
let lambda: LambdaClient;
let channelId: string;
let firstAt: number;

const createdAt = (seq: number) => new Date(firstAt + (seq - 1) * SPACING_MS).toISOString();
const readable = [...Array.from({ length: LAPSE_SEQ }, (_, i) => i + 1), ...Array.from({ length: TOTAL - BACKFILL_FROM + 1 }, (_, i) => BACKFILL_FROM + i)];

async function get<T>(path: string, token: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${rt.endpoints.http}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

async function provider(payload: Record<string, unknown>): Promise<void> {
  const res = await lambda.send(new InvokeCommand({ FunctionName: 'access-provider', Payload: Buffer.from(JSON.stringify(payload)) }));
  expect(res.FunctionError, Buffer.from(res.Payload ?? []).toString()).toBeUndefined();
}

/** Seqs whose id → position pointers are written too (GET by id needs them). */
const POINTED = [LAPSE_SEQ, 5_000, BACKFILL_FROM];
const idOf = (seq: number) => ulid(firstAt + (seq - 1) * SPACING_MS);
let ids: Map<number, string>;

/** Writes the posts straight into the entries table, 25 a request, then sets the channel's counter. */
async function seedPosts(): Promise<void> {
  const stream = `channel:${channelId}`;
  const entries: EntryItem[] = Array.from({ length: TOTAL }, (_, i) => ({
    stream,
    seq: i + 1,
    change_seq: i + 1,
    id: ids.get(i + 1) ?? idOf(i + 1),
    kind: 'post',
    rev: 1,
    author_id: 'admin-1',
    body_text: `post ${i + 1}`,
    attachments: [],
    is_deleted: false,
    created_at: createdAt(i + 1),
  }));
  const batches = Array.from({ length: TOTAL / 25 }, (_, b) => entries.slice(b * 25, b * 25 + 25));
  const writeBatch = async (batch: EntryItem[]) => {
    let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] = batch.map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const res = await doc.send(new BatchWriteCommand({ RequestItems: { [rt.tableNames.entries]: requests } }));
      requests = res.UnprocessedItems?.[rt.tableNames.entries] ?? [];
    }
  };
  for (let i = 0; i < batches.length; i += 8) await Promise.all(batches.slice(i, i + 8).map(writeBatch));
  await doc.send(
    new BatchWriteCommand({
      RequestItems: {
        [rt.tableNames.catalog]: POINTED.map((seq) => ({ PutRequest: { Item: { pk: `entry#${ids.get(seq)}`, sk: 'entry', stream, seq } } })),
      },
    }),
  );
  await doc.send(
    new UpdateCommand({
      TableName: rt.tableNames.catalog,
      Key: { pk: `channel#${channelId}`, sk: 'head' },
      UpdateExpression: 'SET head_seq = :n, head_change_seq = :n, last_created_at = :last',
      ExpressionAttributeValues: { ':n': TOTAL, ':last': createdAt(TOTAL) },
    }),
  );
}

/** Requests the entries table served since the last reset (paging reads it with Queries only). */
function entryQueries(): number {
  return rt.dynamodb.stats().byTable[rt.tableNames.entries]?.requests ?? 0;
}

interface Walk {
  readonly pages: PostsPage[];
  /** DynamoDB Queries each page cost. */
  readonly queries: number[];
}

/** Pages the way a client does, counting the Queries each page costs. */
async function walk(token: string, first: string, next: (last: number) => string): Promise<Walk> {
  const pages: PostsPage[] = [];
  const queries: number[] = [];
  let query = first;
  for (;;) {
    rt.dynamodb.resetStats();
    const res = await get<PostsPage>(`/v1/channels/${channelId}/posts${query}`, token);
    expect(res.status).toBe(200);
    queries.push(entryQueries());
    pages.push(res.body);
    const last = res.body.posts.at(-1)?.seq;
    if (!res.body.has_more || last === undefined) return { pages, queries };
    query = next(last);
  }
}

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.endpoints.dynamodb }));
  lambda = new LambdaClient({ endpoint: rt.endpoints.lambda });
  firstAt = rt.clock.now() - 80 * DAY_MS;
  ids = new Map(POINTED.map((seq) => [seq, idOf(seq)]));
  const admin = await rt.token('admin-1', ['platform_admin']);
  const created = await fetch(`${rt.endpoints.http}/v1/channels`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `gap-${ulid()}` }),
  });
  expect(created.status).toBe(201);
  channelId = ((await created.json()) as { channel: { id: string } }).channel.id;
  await seedPosts();
  await provider({ type: 'SetBackfillPolicy', channel_id: channelId, backfill_days: BACKFILL_DAYS });
  await provider({ type: 'RecordSubscription', user_id: 'lapsed-1', channel_id: channelId, start: createdAt(1), end: createdAt(LAPSE_SEQ) });
  await provider({ type: 'RecordSubscription', user_id: 'lapsed-1', channel_id: channelId, start: createdAt(RESUBSCRIBE_SEQ) });
  // The stream router sees 10,000 creations: let it finish before counting reads.
  await rt.idle(120_000);
}, 120_000);

afterAll(async () => {
  doc?.destroy();
  lambda?.destroy();
  await rt?.stop();
});

describe('a hidden range on HTTP', () => {
  it('ascending pages show every readable post once, none of the gap, no empty page, one Query a page as without a gap', async () => {
    const reader = await rt.token('lapsed-1');
    const gapped = await walk(reader, '?after_seq=0&limit=90', (last) => `?after_seq=${last}&limit=90`);
    expect(gapped.pages.flatMap((p) => p.posts.map((post) => post.seq))).toEqual(readable);
    expect(gapped.pages.every((p) => p.posts.length > 0)).toBe(true);
    expect(gapped.pages.map((p) => p.has_more)).toEqual(gapped.pages.map((_, i) => i < gapped.pages.length - 1));
    // The page reaching the lapse stops there, short (3,000 = 33 × 90 + 30); the next starts past the gap.
    const crossing = gapped.pages.findIndex((p) => p.posts[0]?.seq === BACKFILL_FROM);
    expect(gapped.pages[crossing - 1]?.posts.map((post) => post.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 2971 + i));
    expect(gapped.pages[crossing - 1]?.has_more).toBe(true);

    const admin = await rt.token('admin-1', ['platform_admin']);
    const whole = await walk(admin, '?after_seq=0&limit=90', (last) => `?after_seq=${last}&limit=90`);
    expect(whole.pages.flatMap((p) => p.posts.map((post) => post.seq))).toHaveLength(TOTAL);
    expect(whole.queries).toEqual(whole.queries.map(() => 1));
    // Edges are looked up on the first page and remembered; then each page is one Query, as without a gap.
    expect(gapped.queries.slice(1)).toEqual(gapped.queries.slice(1).map(() => 1));
    expect(gapped.queries[0]).toBeLessThanOrEqual(3);
  });

  it('descending pages from the newest stop short at the gap, then jump it', async () => {
    const reader = await rt.token('lapsed-1');
    const walked = await walk(reader, '?limit=70', (last) => `?before_seq=${last}&limit=70`);
    const seqs = walked.pages.flatMap((p) => p.posts.map((post) => post.seq));
    expect(seqs).toEqual([...readable].reverse());
    expect(walked.pages.every((p) => p.posts.length > 0)).toBe(true);
    // 3,000 readable after the gap = 42 × 70 + 60: the page that reaches 7,001 ends there, short.
    const atEdge = walked.pages.find((p) => p.posts.at(-1)?.seq === BACKFILL_FROM);
    expect(atEdge?.posts).toHaveLength(60);
    expect(atEdge?.has_more).toBe(true);
    const index = walked.pages.indexOf(atEdge as PostsPage);
    expect(walked.pages[index + 1]?.posts[0]?.seq).toBe(LAPSE_SEQ);
    expect(walked.queries.slice(1)).toEqual(walked.queries.slice(1).map(() => 1));
  });

  it('a cursor inside the gap goes on at the next readable post', async () => {
    const reader = await rt.token('lapsed-1');
    const after = await get<PostsPage>(`/v1/channels/${channelId}/posts?after_seq=5000&limit=5`, reader);
    expect(after.body.posts.map((p) => p.seq)).toEqual([7001, 7002, 7003, 7004, 7005]);
    const before = await get<PostsPage>(`/v1/channels/${channelId}/posts?before_seq=5000&limit=5`, reader);
    expect(before.body.posts.map((p) => p.seq)).toEqual([3000, 2999, 2998, 2997, 2996]);
  });

  it('the edges of the windows are inclusive', async () => {
    const reader = await rt.token('lapsed-1');
    const res = await get<PostsPage>(`/v1/channels/${channelId}/posts?after_seq=2999&limit=3`, reader);
    expect(res.body.posts.map((p) => p.seq)).toEqual([3000]);
    expect(res.body.has_more).toBe(true);
    const next = await get<PostsPage>(`/v1/channels/${channelId}/posts?after_seq=3000&limit=1`, reader);
    expect(next.body.posts.map((p) => p.seq)).toEqual([BACKFILL_FROM]);
  });

  it('a post in the gap is 404 by id, as an unknown one; posts at the edges are readable', async () => {
    const reader = await rt.token('lapsed-1');
    const hidden = await get<{ error: { code: string } }>(`/v1/channels/${channelId}/posts/${ids.get(5_000)}`, reader);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('not_found');
    for (const seq of [LAPSE_SEQ, BACKFILL_FROM]) {
      const res = await get<{ post: Post }>(`/v1/channels/${channelId}/posts/${ids.get(seq)}`, reader);
      expect(res.status).toBe(200);
      expect(res.body.post.seq).toBe(seq);
    }
    const admin = await rt.token('admin-1', ['platform_admin']);
    expect((await get(`/v1/channels/${channelId}/posts/${ids.get(5_000)}`, admin)).status).toBe(200);
  });

  it('a reader without any subscription is refused with 403', async () => {
    const stranger = await rt.token('stranger-1');
    const res = await get<{ error: { code: string } }>(`/v1/channels/${channelId}/posts`, stranger);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('access_denied');
  });
});
