import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessDecision } from '../../shared/access/decision';
import { ddb } from '../../shared/clients/dynamodb';
import { AccessProviderUnavailableError } from '../../shared/errors';
import type { HttpEvent, HttpResponse } from '../../shared/http/handler';
import { ENTRIES_BY_CHANGE_SEQ } from '../../shared/spec/tables';
import type { EntryItem } from '../../shared/streams/entry';

const CHANNEL_ID = '01JCHANNE10000000000000000';
const STREAM = `channel:${CHANNEL_ID}`;
const ADMIN = 'admin-1';
const HEAD_SEQ = 40;
/** Entry n is created on day n of 2026 at noon. */
const createdAt = (seq: number) => new Date(Date.UTC(2026, 0, seq, 12)).toISOString();

const state = vi.hoisted(() => ({ decision: undefined as AccessDecision | Error | undefined }));

vi.mock('../../shared/channels/channels', async () => {
  const { NotFoundError } = await import('../../shared/errors');
  return {
    channelKey: (id: string) => ({ pk: `channel#${id}`, sk: 'head' }),
    isChannelAdmin: (principal: { userId: string }, channel: { admin_ids: string[] }) => channel.admin_ids.includes(principal.userId),
    getChannelHead: async (id: string) => {
      if (id !== CHANNEL_ID) throw new NotFoundError('The channel does not exist.');
      return {
        id,
        name: 'news',
        admin_ids: [ADMIN],
        head_seq: HEAD_SEQ,
        head_change_seq: HEAD_SEQ + 2,
        last_created_at: new Date(Date.UTC(2026, 0, HEAD_SEQ, 12)).toISOString(),
        created_at: '2026-01-01T00:00:00.000Z',
      };
    },
  };
});
vi.mock('../../shared/access/channel-access', () => ({
  channelAccessFor: async () => {
    if (state.decision instanceof Error) throw state.decision;
    return state.decision;
  },
}));
vi.mock('../../shared/media/attachments', () => ({ resolveAttachments: vi.fn() }));

const { handler: listPosts } = await import('../../lambdas/http/posts-list');
const { handler: getPost } = await import('../../lambdas/http/posts-get');
const { handler: listChanges } = await import('../../lambdas/http/changes-list');

const ddbMock = mockClient(ddb);
const context = { functionName: 'test', awsRequestId: 'req' } as Context;

function entry(seq: number, overrides: Partial<EntryItem> = {}): EntryItem {
  return {
    stream: STREAM,
    seq,
    id: `01JP0ST${String(seq).padStart(19, '0')}`,
    kind: 'post',
    rev: 1,
    change_seq: seq,
    author_id: ADMIN,
    body_text: `post ${seq}`,
    attachments: [{ id: '01JMED1A000000000000000000', content_type: 'image/png', size: 10 }],
    is_deleted: false,
    created_at: createdAt(seq),
    ...overrides,
  };
}

function event(options: { query?: Record<string, string>; params?: Record<string, string>; sub?: string }): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'test',
    rawPath: '/',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    queryStringParameters: options.query,
    pathParameters: options.params ?? { channel_id: CHANNEL_ID },
    requestContext: { authorizer: { jwt: { claims: { sub: options.sub ?? 'reader-1' }, scopes: [] } } },
  } as unknown as HttpEvent;
}

async function call(fn: typeof listPosts, e: HttpEvent): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = (await fn(e, context)) as HttpResponse & { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

/** Base-table Queries by seq answer from entries 1..HEAD_SEQ. */
function serveEntries(): void {
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const v = input.ExpressionAttributeValues ?? {};
    const all = Array.from({ length: HEAD_SEQ }, (_, i) => entry(i + 1));
    const rows = all.filter((e) => e.seq >= (v[':from'] as number) && e.seq <= (v[':to'] as number));
    return { Items: input.ScanIndexForward === false ? rows.reverse() : rows };
  });
}

const FULL: AccessDecision = { mode: 'FULL', expiresAt: Number.MAX_SAFE_INTEGER };

beforeEach(() => {
  ddbMock.reset();
  state.decision = FULL;
});

describe('GET /v1/channels/{channel_id}/posts query parameters', () => {
  const bad: { name: string; query: Record<string, string> }[] = [
    { name: 'both cursors', query: { after_seq: '1', before_seq: '9' } },
    { name: 'limit 0', query: { limit: '0' } },
    { name: 'limit 101', query: { limit: '101' } },
    { name: 'a non-numeric limit', query: { limit: 'ten' } },
    { name: 'an empty limit', query: { limit: '' } },
    { name: 'a fractional limit', query: { limit: '2.5' } },
    { name: 'a non-numeric after_seq', query: { after_seq: 'abc' } },
    { name: 'a negative after_seq', query: { after_seq: '-1' } },
    { name: 'a non-numeric before_seq', query: { before_seq: '1e3' } },
    { name: 'a repeated cursor (joined by API Gateway)', query: { after_seq: '1,2' } },
    { name: 'an unknown parameter', query: { cursor: 'x' } },
  ];
  it.each(bad)('answers 400 invalid_request to $name, before reading anything', async ({ query }) => {
    const res = await call(listPosts, event({ query }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('answers 400 to a channel id that is not a ULID', async () => {
    const res = await call(listPosts, event({ params: { channel_id: 'nope' } }));
    expect(res.status).toBe(400);
  });

  it('reads 20 by default and accepts 1 and 100', async () => {
    serveEntries();
    expect(((await call(listPosts, event({}))).body.posts as unknown[]).length).toBe(20);
    expect(((await call(listPosts, event({ query: { limit: '1' } }))).body.posts as unknown[]).length).toBe(1);
    expect(((await call(listPosts, event({ query: { limit: '100' } }))).body.posts as unknown[]).length).toBe(HEAD_SEQ);
  });
});

describe('GET /v1/channels/{channel_id}/posts', () => {
  it('pages ascending after a seq with one Query and an exact has_more', async () => {
    serveEntries();
    const res = await call(listPosts, event({ query: { after_seq: '35', limit: '3' } }));
    expect(res.status).toBe(200);
    expect((res.body.posts as { seq: number }[]).map((p) => p.seq)).toEqual([36, 37, 38]);
    expect(res.body.has_more).toBe(true);
    const last = await call(listPosts, event({ query: { after_seq: '37', limit: '3' } }));
    expect((last.body.posts as { seq: number }[]).map((p) => p.seq)).toEqual([38, 39, 40]);
    expect(last.body.has_more).toBe(false);
    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('answers the newest page, descending, when no cursor is given', async () => {
    serveEntries();
    const res = await call(listPosts, event({ query: { limit: '2' } }));
    expect((res.body.posts as { seq: number }[]).map((p) => p.seq)).toEqual([40, 39]);
    expect(res.body.has_more).toBe(true);
  });

  it('answers posts in the API shape', async () => {
    serveEntries();
    const res = await call(listPosts, event({ query: { after_seq: '0', limit: '1' } }));
    expect(res.body.posts).toEqual([
      {
        id: entry(1).id,
        channel_id: CHANNEL_ID,
        seq: 1,
        rev: 1,
        change_seq: 1,
        author_id: ADMIN,
        body_text: 'post 1',
        attachments: [{ id: '01JMED1A000000000000000000', content_type: 'image/png', size: 10 }],
        is_deleted: false,
        created_at: createdAt(1),
      },
    ]);
  });

  it('shows an archive reader only the posts inside its windows', async () => {
    serveEntries();
    // Entries are one a day: the window holds seqs 10..12, found through the created_at index.
    ddbMock.on(QueryCommand, { IndexName: 'by_created_at' }).callsFake((input: QueryCommandInput) => {
      const start = input.ScanIndexForward !== false;
      return { Items: [{ stream: STREAM, seq: start ? 10 : 12, created_at: createdAt(start ? 10 : 12) }] };
    });
    state.decision = { mode: 'ARCHIVE_UNTIL', windows: [{ start: createdAt(10), end: createdAt(12) }], expiresAt: Number.MAX_SAFE_INTEGER };
    const res = await call(listPosts, event({ query: { limit: '20' } }));
    expect((res.body.posts as { seq: number }[]).map((p) => p.seq)).toEqual([12, 11, 10]);
    expect(res.body.has_more).toBe(false);
  });

  it('shows an archive reader whose decision names no windows nothing', async () => {
    serveEntries();
    state.decision = { mode: 'ARCHIVE_UNTIL', expiresAt: Number.MAX_SAFE_INTEGER };
    const res = await call(listPosts, event({}));
    expect(res.body).toEqual({ posts: [], has_more: false });
  });

  it('answers 404 not_found for an unknown channel', async () => {
    const res = await call(listPosts, event({ params: { channel_id: '01JZZZZZZZZZZZZZZZZZZZZZZZ' } }));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers 403 access_denied on DENY', async () => {
    state.decision = { mode: 'DENY', expiresAt: 0 };
    const res = await call(listPosts, event({}));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied' } });
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('answers 503 access_provider_unavailable when the provider fails (fail closed)', async () => {
    state.decision = new AccessProviderUnavailableError('provider timed out');
    const res = await call(listPosts, event({}));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'access_provider_unavailable', message: 'Access cannot be checked right now.' } });
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('GET /v1/channels/{channel_id}/posts/{post_id}', () => {
  const params = (seq: number) => ({ channel_id: CHANNEL_ID, post_id: entry(seq).id });

  function servePost(stored: EntryItem): void {
    ddbMock.on(GetCommand, { Key: { pk: `entry#${stored.id}`, sk: 'entry' } }).resolves({ Item: { pk: `entry#${stored.id}`, sk: 'entry', stream: STREAM, seq: stored.seq } });
    ddbMock.on(GetCommand, { Key: { stream: STREAM, seq: stored.seq } }).resolves({ Item: stored });
  }

  it('answers a readable post', async () => {
    servePost(entry(7));
    const res = await call(getPost, event({ params: params(7) }));
    expect(res.status).toBe(200);
    expect(res.body.post).toMatchObject({ id: entry(7).id, seq: 7, channel_id: CHANNEL_ID, body_text: 'post 7' });
  });

  it('answers a deleted post as its tombstone, seq kept', async () => {
    servePost(entry(7, { is_deleted: true, body_text: null, attachments: [], rev: 2, change_seq: 41 }));
    const res = await call(getPost, event({ params: params(7) }));
    expect(res.body.post).toMatchObject({ seq: 7, is_deleted: true, body_text: null, attachments: [], rev: 2 });
  });

  it('answers 404 for a post outside the reader\'s windows, as for an unknown one', async () => {
    servePost(entry(20));
    state.decision = { mode: 'FULL', windows: [{ end: createdAt(10) }, { start: createdAt(30) }], expiresAt: Number.MAX_SAFE_INTEGER };
    const hidden = await call(getPost, event({ params: params(20) }));
    expect(hidden.status).toBe(404);
    ddbMock.reset();
    ddbMock.on(GetCommand).resolves({});
    const unknown = await call(getPost, event({ params: params(20) }));
    expect(unknown).toEqual(hidden);
  });

  it('answers 403 on DENY without reading the post', async () => {
    state.decision = { mode: 'DENY', expiresAt: 0 };
    const res = await call(getPost, event({ params: params(7) }));
    expect(res.status).toBe(403);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('answers 400 to query parameters', async () => {
    const res = await call(getPost, event({ params: params(7), query: { limit: '1' } }));
    expect(res.status).toBe(400);
  });
});

describe('GET /v1/channels/{channel_id}/changes', () => {
  it('answers the readable latest states after after_change_seq from the by_change_seq index', async () => {
    const changed = [entry(3, { change_seq: 41, rev: 2, body_text: 'edited' }), entry(39, { change_seq: 42, rev: 2, is_deleted: true, body_text: null })];
    ddbMock.on(QueryCommand, { IndexName: ENTRIES_BY_CHANGE_SEQ }).resolves({ Items: changed });
    const res = await call(listChanges, event({ query: { after_change_seq: '40', limit: '5' } }));
    expect(res.status).toBe(200);
    expect((res.body.changes as { seq: number; change_seq: number; is_deleted: boolean }[]).map((c) => [c.seq, c.change_seq, c.is_deleted])).toEqual([
      [3, 41, false],
      [39, 42, true],
    ]);
    expect(res.body.has_more).toBe(false);
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ ConsistentRead: true, ExpressionAttributeValues: { ':after': 40 } });
  });

  it('leaves out changes to posts outside the reader\'s windows', async () => {
    ddbMock.on(QueryCommand, { IndexName: ENTRIES_BY_CHANGE_SEQ }).resolves({ Items: [entry(3, { change_seq: 41, rev: 2 }), entry(20, { change_seq: 42, rev: 2 })] });
    state.decision = { mode: 'ARCHIVE_UNTIL', windows: [{ end: createdAt(10) }], expiresAt: Number.MAX_SAFE_INTEGER };
    const res = await call(listChanges, event({ query: { after_change_seq: '40' } }));
    expect((res.body.changes as { seq: number }[]).map((c) => c.seq)).toEqual([3]);
  });

  const bad: { name: string; query: Record<string, string> }[] = [
    { name: 'a non-numeric after_change_seq', query: { after_change_seq: 'x' } },
    { name: 'limit 0', query: { limit: '0' } },
    { name: 'limit 101', query: { limit: '101' } },
    { name: 'a seq cursor', query: { after_seq: '1' } },
  ];
  it.each(bad)('answers 400 to $name', async ({ query }) => {
    const res = await call(listChanges, event({ query }));
    expect(res.status).toBe(400);
    expect(ddbMock.calls()).toHaveLength(0);
  });
});
