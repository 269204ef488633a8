import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ddb } from '../../shared/clients/dynamodb';
import { setClock } from '../../shared/clock';
import { InvalidRequestError } from '../../shared/errors';
import type { HttpEvent, HttpResponse } from '../../shared/http/handler';
import type { EntryItem } from '../../shared/streams/entry';
import { payloadHash } from '../../shared/streams/idempotency';

const CHANNEL_ID = '01JCHANNE10000000000000000';
const ADMIN = 'admin-1';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const NOW_S = NOW / 1000;

const channels = vi.hoisted(() => ({ head: undefined as Record<string, unknown> | undefined }));
const media = vi.hoisted(() => ({ resolveAttachments: vi.fn() }));

vi.mock('../../shared/channels/channels', async () => {
  const { NotFoundError } = await import('../../shared/errors');
  return {
    channelKey: (id: string) => ({ pk: `channel#${id}`, sk: 'head' }),
    getChannelHead: async (id: string) => {
      if (!channels.head || channels.head.id !== id) throw new NotFoundError('The channel does not exist.');
      return channels.head;
    },
    isChannelAdmin: (principal: { userId: string }, channel: { admin_ids: string[] }) => channel.admin_ids.includes(principal.userId),
  };
});
vi.mock('../../shared/media/attachments', () => ({ resolveAttachments: media.resolveAttachments }));

const { handler: publish } = await import('../../lambdas/http/posts-publish');
const { handler: edit } = await import('../../lambdas/http/posts-edit');
const { handler: remove } = await import('../../lambdas/http/posts-delete');

const ddbMock = mockClient(ddb);

function event(options: { sub?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; params?: Record<string, string> }): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'test',
    rawPath: '/',
    rawQueryString: '',
    headers: options.headers ?? {},
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    isBase64Encoded: false,
    pathParameters: options.params ?? { channel_id: CHANNEL_ID },
    requestContext: { authorizer: { jwt: { claims: { sub: options.sub ?? ADMIN }, scopes: [] } } },
  } as unknown as HttpEvent;
}

const context = { functionName: 'test', awsRequestId: 'req' } as Context;

async function call(fn: typeof publish, e: HttpEvent): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = (await fn(e, context)) as HttpResponse & { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, headers: (res.headers ?? {}) as Record<string, unknown> };
}

const publishEvent = (body: unknown, key: string | null = 'key-1', sub = ADMIN) =>
  event({ sub, body, headers: key === null ? {} : { 'Idempotency-Key': key } });

function cancelledAt(index: number, size = 4) {
  return new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: Array.from({ length: size }, (_, i) => ({ Code: i === index ? 'ConditionalCheckFailed' : 'None' })),
  });
}

let restoreClock: () => void;
beforeEach(() => {
  ddbMock.reset();
  media.resolveAttachments.mockReset();
  restoreClock = setClock(() => NOW);
  channels.head = {
    id: CHANNEL_ID,
    name: 'news',
    admin_ids: [ADMIN],
    head_seq: 7,
    head_change_seq: 9,
    created_at: '2026-01-01T00:00:00.000Z',
    last_created_at: '2026-03-01T11:00:00.000Z',
  };
});
afterEach(() => {
  restoreClock();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('publishing a post', () => {
  it('commits counter, post, pointer and idempotency record in one transaction after one read, and answers 201', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const res = await call(publish, publishEvent({ body_text: 'Market opens at 9' }));

    expect(res.status).toBe(201);
    const post = res.body.post as Record<string, unknown>;
    expect(post).toMatchObject({
      channel_id: CHANNEL_ID,
      seq: 8,
      rev: 1,
      change_seq: 10,
      author_id: ADMIN,
      body_text: 'Market opens at 9',
      attachments: [],
      is_deleted: false,
      created_at: '2026-03-01T12:00:00.000Z',
    });
    expect(post.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.headers['Idempotency-Replayed']).toBeUndefined();

    const calls = ddbMock.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
    const [head, entry, pointer, record] = calls[0]?.args[0].input.TransactItems ?? [];
    expect(head?.Update).toMatchObject({
      TableName: 'test-catalog',
      Key: { pk: `channel#${CHANNEL_ID}`, sk: 'head' },
      ConditionExpression: 'attribute_exists(pk) AND #hs = :hs AND #hc = :hc',
      ExpressionAttributeValues: { ':hs': 7, ':hc': 9 },
    });
    expect(entry?.Put).toMatchObject({
      TableName: 'test-entries',
      ConditionExpression: 'attribute_not_exists(seq)',
      Item: { stream: `channel:${CHANNEL_ID}`, seq: 8, change_seq: 10, rev: 1, kind: 'post', id: post.id, body_text: 'Market opens at 9' },
    });
    expect(pointer?.Put).toEqual({
      TableName: 'test-catalog',
      Item: { pk: `entry#${post.id as string}`, sk: 'entry', stream: `channel:${CHANNEL_ID}`, seq: 8 },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(record?.Put).toEqual({
      TableName: 'test-idempotency',
      Item: {
        pk: `${ADMIN}#${encodeURIComponent('POST /v1/channels/{channel_id}/posts')}#${CHANNEL_ID}#key-1`,
        payload_hash: payloadHash({ body_text: 'Market opens at 9', attachment_ids: [] }),
        status: 201,
        body: JSON.stringify(res.body),
        expires_at: NOW_S + 24 * 3600,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
      ExpressionAttributeValues: { ':now': NOW_S },
    });
  });

  it('stores the resolved attachments with the post', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const attachment = { id: '01JMEDQA000000000000000000', content_type: 'image/png', size: 1234 };
    media.resolveAttachments.mockResolvedValue([attachment]);
    const res = await call(publish, publishEvent({ body_text: 'chart', attachment_ids: [attachment.id] }));
    expect(res.status).toBe(201);
    expect(media.resolveAttachments).toHaveBeenCalledWith({ userId: ADMIN, groups: [] }, { channel_id: CHANNEL_ID }, [attachment.id]);
    expect((res.body.post as { attachments: unknown }).attachments).toEqual([attachment]);
  });

  it('passes attachment errors through as their 4xx', async () => {
    media.resolveAttachments.mockRejectedValue(new InvalidRequestError('attachment 01JMEDQA000000000000000000 is not yours'));
    const res = await call(publish, publishEvent({ body_text: 'chart', attachment_ids: ['01JMEDQA000000000000000000'] }));
    expect(res.status).toBe(400);
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('does not resolve attachments when there are none', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    await call(publish, publishEvent({ body_text: 'plain' }));
    expect(media.resolveAttachments).not.toHaveBeenCalled();
  });

  it('replays the stored status and body with Idempotency-Replayed when the key was used with the same payload', async () => {
    const stored = { post: { id: '01JP0ST0000000000000000000', seq: 3 } };
    ddbMock.on(TransactWriteCommand).rejects(cancelledAt(3));
    ddbMock.on(GetCommand).resolves({
      Item: { pk: 'x', payload_hash: payloadHash({ body_text: 'same', attachment_ids: [] }), status: 201, body: JSON.stringify(stored), expires_at: NOW_S + 10 },
    });
    const res = await call(publish, publishEvent({ body_text: 'same' }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual(stored);
    expect(res.headers['Idempotency-Replayed']).toBe('true');
    expect(ddbMock.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ TableName: 'test-idempotency', ConsistentRead: true });
  });

  it('answers 409 idempotency_key_reused when the key was used with another payload', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelledAt(3));
    ddbMock.on(GetCommand).resolves({
      Item: { pk: 'x', payload_hash: payloadHash({ body_text: 'other', attachment_ids: [] }), status: 201, body: '{}', expires_at: NOW_S + 10 },
    });
    const res = await call(publish, publishEvent({ body_text: 'mine' }));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });

  it('publishes anew when the record it collided with has expired by the time it is read', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelledAt(3)).resolves({});
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'x', payload_hash: 'h', status: 201, body: '{}', expires_at: NOW_S - 1 } });
    const res = await call(publish, publishEvent({ body_text: 'again' }));
    expect(res.status).toBe(201);
    expect(res.headers['Idempotency-Replayed']).toBeUndefined();
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('answers 429 with Retry-After when the counter stays contended', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    ddbMock.on(TransactWriteCommand).rejects(cancelledAt(0));
    ddbMock.on(GetCommand).resolves({ Item: { head_seq: 7, head_change_seq: 9 } });
    const pending = call(publish, publishEvent({ body_text: 'busy' }));
    await vi.runAllTimersAsync();
    const res = await pending;
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
  });

  it.each([
    ['a missing Idempotency-Key', publishEvent({ body_text: 'x' }, null), 400, 'invalid_request'],
    ['an empty body_text', publishEvent({ body_text: '' }), 400, 'invalid_request'],
    ['a body_text over 10,000 characters', publishEvent({ body_text: 'é'.repeat(10_001) }), 400, 'invalid_request'],
    ['an unknown field', publishEvent({ body_text: 'x', pinned: true }), 400, 'invalid_request'],
    ['more than 10 attachments', publishEvent({ body_text: 'x', attachment_ids: Array.from({ length: 11 }, (_, i) => `01JMEDQA0000000000000000${String(i).padStart(2, '0')}`) }), 400, 'invalid_request'],
    ['an attachment id that is not a ULID', publishEvent({ body_text: 'x', attachment_ids: ['nope'] }), 400, 'invalid_request'],
    ['a channel id that is not a ULID', event({ body: { body_text: 'x' }, headers: { 'idempotency-key': 'k' }, params: { channel_id: 'nope' } }), 400, 'invalid_request'],
    ['a body over 256 KB', event({ rawBody: JSON.stringify({ body_text: 'x'.repeat(300_000) }), headers: { 'idempotency-key': 'k' } }), 413, 'payload_too_large'],
    ['a caller who is not a channel admin', publishEvent({ body_text: 'x' }, 'k', 'reader-1'), 403, 'access_denied'],
    ['an unknown channel', event({ body: { body_text: 'x' }, headers: { 'idempotency-key': 'k' }, params: { channel_id: '01JN0CHANNE100000000000000' } }), 404, 'not_found'],
  ])('rejects %s', async (_, e, status, code) => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const res = await call(publish, e);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code } });
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('accepts exactly 10,000 characters counted as code points', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const res = await call(publish, publishEvent({ body_text: '😀'.repeat(10_000) }));
    expect(res.status).toBe(201);
  });
});

describe('editing and deleting a post', () => {
  const POST_ID = '01JP0ST0000000000000000000';
  const stored: EntryItem = {
    stream: `channel:${CHANNEL_ID}`,
    seq: 5,
    change_seq: 6,
    id: POST_ID,
    kind: 'post',
    rev: 1,
    author_id: ADMIN,
    body_text: 'before',
    attachments: [{ id: '01JMEDQA000000000000000000', content_type: 'image/png', size: 3 }],
    is_deleted: false,
    created_at: '2026-02-01T00:00:00.000Z',
  };
  const params = { channel_id: CHANNEL_ID, post_id: POST_ID };

  function storedAs(entry: EntryItem) {
    ddbMock
      .on(GetCommand, { Key: { pk: `entry#${POST_ID}`, sk: 'entry' } })
      .resolves({ Item: { pk: `entry#${POST_ID}`, sk: 'entry', stream: entry.stream, seq: entry.seq } })
      .on(GetCommand, { Key: { stream: entry.stream, seq: entry.seq } })
      .resolves({ Item: entry });
  }

  it('edits: new text, rev + 1, the next change_seq and edited_at, seq kept', async () => {
    storedAs(stored);
    ddbMock.on(TransactWriteCommand).resolves({});
    const res = await call(edit, event({ body: { body_text: 'after' }, params }));
    expect(res.status).toBe(200);
    expect(res.body.post).toMatchObject({ id: POST_ID, seq: 5, rev: 2, change_seq: 10, body_text: 'after', edited_at: '2026-03-01T12:00:00.000Z' });
    const [head, entry] = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(head?.Update?.ExpressionAttributeValues).toMatchObject({ ':hc': 9 });
    expect(entry?.Put).toMatchObject({ ConditionExpression: '#rev = :rev', ExpressionAttributeValues: { ':rev': 1 } });
  });

  it('deletes as a tombstone: no text, no attachments, seq kept, rev + 1', async () => {
    storedAs(stored);
    ddbMock.on(TransactWriteCommand).resolves({});
    const res = await call(remove, event({ params }));
    expect(res.status).toBe(200);
    expect(res.body.post).toMatchObject({ id: POST_ID, seq: 5, rev: 2, change_seq: 10, body_text: null, attachments: [], is_deleted: true });
    const [, entry] = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(entry?.Put?.Item).toMatchObject({ is_deleted: true, body_text: null, attachments: [] });
  });

  it('answers the same tombstone when deleting a tombstone, and writes nothing', async () => {
    const tombstone: EntryItem = { ...stored, rev: 2, change_seq: 8, body_text: null, attachments: [], is_deleted: true, edited_at: '2026-02-02T00:00:00.000Z' };
    storedAs(tombstone);
    const res = await call(remove, event({ params }));
    expect(res.status).toBe(200);
    expect(res.body.post).toMatchObject({ seq: 5, rev: 2, change_seq: 8, is_deleted: true, edited_at: '2026-02-02T00:00:00.000Z' });
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('refuses to edit a tombstone (409)', async () => {
    storedAs({ ...stored, rev: 2, is_deleted: true, body_text: null });
    const res = await call(edit, event({ body: { body_text: 'revive' }, params }));
    expect(res.status).toBe(409);
  });

  it.each([
    ['edit', () => call(edit, event({ sub: 'reader-1', body: { body_text: 'x' }, params }))],
    ['delete', () => call(remove, event({ sub: 'reader-1', params }))],
  ])('refuses to %s for a non-admin (403)', async (_, run) => {
    storedAs(stored);
    const res = await run();
    expect(res.status).toBe(403);
    expect(ddbMock.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 404 for a post of another channel', async () => {
    storedAs({ ...stored, stream: 'channel:01JOTHERCHANNE100000000000' });
    const res = await call(remove, event({ params }));
    expect(res.status).toBe(404);
  });

  it('answers 400 for a post id that is not a ULID', async () => {
    const res = await call(remove, event({ params: { channel_id: CHANNEL_ID, post_id: 'abc' } }));
    expect(res.status).toBe(400);
  });
});
