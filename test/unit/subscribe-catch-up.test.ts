import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessDecision } from '../../shared/access/decision';
import { connectionsApi } from '../../shared/clients/connections';
import { ddb } from '../../shared/clients/dynamodb';
import { AccessProviderUnavailableError } from '../../shared/errors';
import { changesAfter } from '../../shared/streams/changes';
import type { EntryItem } from '../../shared/streams/entry';
import type { WsEvent } from '../../shared/ws/handler';

const CHANNEL_ID = '01JCHANNE10000000000000000';
const STREAM = `channel:${CHANNEL_ID}`;

const state = vi.hoisted(() => ({
  decision: undefined as AccessDecision | Error | undefined,
  log: [] as string[],
}));

vi.mock('../../shared/channels/channels', async () => {
  const { NotFoundError } = await import('../../shared/errors');
  return {
    getChannelHead: async (id: string) => {
      if (id !== CHANNEL_ID) throw new NotFoundError('The channel does not exist.');
      return { id, name: 'n', admin_ids: ['admin-1'], head_seq: 40, head_change_seq: 44, created_at: '2026-01-01T00:00:00.000Z' };
    },
  };
});
vi.mock('../../shared/access/channel-access', () => ({
  channelAccessFor: async () => {
    if (state.decision instanceof Error) throw state.decision;
    return state.decision;
  },
}));
vi.mock('../../shared/connections/store', () => ({
  putSubscription: vi.fn(async (sub: { connection_id: string }) => void state.log.push(`put ${sub.connection_id}`)),
  removeSubscription: vi.fn(async (stream: string, connectionId: string) => void state.log.push(`remove ${stream} ${connectionId}`)),
}));

const { handler: subscribeHandler } = await import('../../lambdas/ws/subscribe');
const { handler: unsubscribeHandler } = await import('../../lambdas/ws/unsubscribe');
const store = await import('../../shared/connections/store');

const ddbMock = mockClient(ddb);
const api = mockClient(connectionsApi);
const context = { functionName: 'ws', awsRequestId: 'req' } as Context;

function wsEvent(frame: unknown, userId = 'reader-1'): WsEvent {
  return {
    body: typeof frame === 'string' ? frame : JSON.stringify(frame),
    isBase64Encoded: false,
    requestContext: { connectionId: 'conn-1', routeKey: 'subscribe', authorizer: { user_id: userId } },
  } as unknown as WsEvent;
}

async function send(handler: typeof subscribeHandler, frame: unknown): Promise<Record<string, unknown>> {
  const res = (await handler(wsEvent(frame), context)) as { body: string };
  return JSON.parse(res.body) as Record<string, unknown>;
}

function entry(changeSeq: number, createdAt = '2026-02-10T00:00:00.000Z'): EntryItem {
  return {
    stream: STREAM,
    seq: changeSeq,
    change_seq: changeSeq,
    id: `01JP0ST0000000000000${String(changeSeq).padStart(6, '0')}`,
    kind: 'post',
    rev: 1,
    author_id: 'admin-1',
    body_text: 'text',
    attachments: [],
    is_deleted: false,
    created_at: createdAt,
  };
}

const posted = () => api.commandCalls(PostToConnectionCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.Data as Uint8Array).toString()) as Record<string, unknown>);

beforeEach(() => {
  ddbMock.reset();
  api.reset();
  api.on(PostToConnectionCommand).callsFake(async () => {
    state.log.push('post');
    return {};
  });
  ddbMock.on(QueryCommand).callsFake(async () => {
    state.log.push('query');
    return { Items: [] };
  });
  state.log = [];
  state.decision = { mode: 'FULL', expiresAt: 1_000 };
  vi.mocked(store.putSubscription).mockClear();
});

describe('subscribing to a channel stream', () => {
  it('stores the live subscription before reading the catch-up, posts the catch-up in order, then answers subscribed', async () => {
    state.decision = { mode: 'FULL', windows: [{ start: '2026-02-01T00:00:00.000Z' }], expiresAt: 123_456 };
    ddbMock.on(QueryCommand).callsFake(async () => {
      state.log.push('query');
      return { Items: [entry(41, '2026-01-15T00:00:00.000Z'), entry(42), { ...entry(7), change_seq: 43, rev: 2 }, entry(44)] };
    });

    const reply = await send(subscribeHandler, { action: 'subscribe', stream: STREAM, after_change_seq: 40 });

    expect(state.log[0]).toBe('put conn-1');
    expect(state.log[1]).toBe('query');
    expect(store.putSubscription).toHaveBeenCalledWith({
      stream: STREAM,
      connection_id: 'conn-1',
      user_id: 'reader-1',
      mode: 'FULL',
      windows: [{ start: '2026-02-01T00:00:00.000Z' }],
      decision_expires_at: 123_456,
      groups: [],
    });
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'test-entries',
      IndexName: 'by_change_seq',
      ConsistentRead: true,
      ScanIndexForward: true,
      ExpressionAttributeValues: { ':stream': STREAM, ':after': 40 },
    });
    // Entry 41 lies outside the reader's windows.
    expect(posted()).toEqual([
      { type: 'delta', stream: STREAM, seq: 42, id: entry(42).id, op: 'created', rev: 1, change_seq: 42 },
      { type: 'delta', stream: STREAM, seq: 7, id: entry(7).id, op: 'updated', rev: 2, change_seq: 43 },
      { type: 'delta', stream: STREAM, seq: 44, id: entry(44).id, op: 'created', rev: 1, change_seq: 44 },
    ]);
    expect(reply).toEqual({ type: 'subscribed', stream: STREAM, head_seq: 44, head_change_seq: 44, live: true });
  });

  it('reads no catch-up without after_change_seq', async () => {
    const reply = await send(subscribeHandler, { action: 'subscribe', stream: STREAM });
    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(0);
    expect(posted()).toEqual([]);
    expect(reply).toEqual({ type: 'subscribed', stream: STREAM, head_seq: 40, head_change_seq: 44, live: true });
  });

  it('sends at most 500 deltas, then one reset', async () => {
    const many = Array.from({ length: 501 }, (_, i) => entry(i + 1));
    ddbMock.on(QueryCommand).resolves({ Items: many });
    const reply = await send(subscribeHandler, { action: 'subscribe', stream: STREAM, after_change_seq: 0 });
    const frames = posted();
    expect(frames).toHaveLength(501);
    expect(frames.slice(0, 500).every((f) => f.type === 'delta')).toBe(true);
    expect(frames[500]).toEqual({ type: 'reset', stream: STREAM, head_seq: 500, head_change_seq: 500 });
    expect(reply).toMatchObject({ type: 'subscribed', live: true });
  });

  it('gives ARCHIVE_UNTIL readers the catch-up inside their windows but no live subscription', async () => {
    state.decision = { mode: 'ARCHIVE_UNTIL', windows: [{ end: '2026-02-01T00:00:00.000Z' }], expiresAt: 1_000 };
    ddbMock.on(QueryCommand).resolves({ Items: [entry(41, '2026-01-15T00:00:00.000Z'), entry(42)] });
    const reply = await send(subscribeHandler, { action: 'subscribe', stream: STREAM, after_change_seq: 40 });
    expect(store.putSubscription).not.toHaveBeenCalled();
    expect(state.log).toContain(`remove ${STREAM} conn-1`);
    expect(posted().map((f) => f.seq)).toEqual([41]);
    expect(reply).toMatchObject({ type: 'subscribed', live: false });
  });

  it.each<[string, unknown, AccessDecision | Error, string]>([
    ['an unknown channel', { action: 'subscribe', stream: 'channel:01JN0CHANNE100000000000000' }, { mode: 'FULL', expiresAt: 1 }, 'not_found'],
    ['a denied reader', { action: 'subscribe', stream: STREAM }, { mode: 'DENY', expiresAt: 1 }, 'access_denied'],
    ['a failing access provider', { action: 'subscribe', stream: STREAM }, new AccessProviderUnavailableError(), 'access_provider_unavailable'],
    ['a stream name that is not one', { action: 'subscribe', stream: 'channel:nope' }, { mode: 'FULL', expiresAt: 1 }, 'invalid_request'],
    ['an unknown field', { action: 'subscribe', stream: STREAM, since: 3 }, { mode: 'FULL', expiresAt: 1 }, 'invalid_request'],
  ])('refuses %s with an error frame and stores nothing', async (_, frame, decision, code) => {
    state.decision = decision;
    const reply = await send(subscribeHandler, frame);
    expect(reply).toMatchObject({ type: 'error', code });
    if (code !== 'invalid_request') expect(reply.stream).toBe((frame as { stream: string }).stream);
    expect(store.putSubscription).not.toHaveBeenCalled();
    expect(posted()).toEqual([]);
  });
});

describe('unsubscribing', () => {
  it('removes the subscription and answers unsubscribed', async () => {
    const reply = await send(unsubscribeHandler, { action: 'unsubscribe', stream: STREAM });
    expect(state.log).toEqual([`remove ${STREAM} conn-1`]);
    expect(reply).toEqual({ type: 'unsubscribed', stream: STREAM });
  });
});

describe('reading what changed after a change_seq', () => {
  it('pages past entries outside the windows until it has limit + 1 readable ones', async () => {
    const hidden = (n: number) => entry(n, '2026-01-01T00:00:00.000Z');
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [hidden(1), hidden(2), entry(3)], LastEvaluatedKey: { stream: STREAM, seq: 2, change_seq: 2 } })
      .resolvesOnce({ Items: [hidden(4), entry(5), entry(6)], LastEvaluatedKey: { stream: STREAM, seq: 6, change_seq: 6 } });
    const page = await changesAfter(STREAM, 0, 2, [{ start: '2026-02-01T00:00:00.000Z' }]);
    expect(page.entries.map((e) => e.change_seq)).toEqual([3, 5]);
    expect(page.has_more).toBe(true);
    const calls = ddbMock.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.ExclusiveStartKey).toEqual({ stream: STREAM, seq: 2, change_seq: 2 });
  });

  it('asks for exactly limit + 1 entries without windows and says when there is no more', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [entry(1), entry(2)] });
    const page = await changesAfter(STREAM, 0, 5, undefined);
    expect(page).toEqual({ entries: [entry(1), entry(2)], has_more: false });
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input.Limit).toBe(6);
  });

  it('reads nothing for a reader without any window', async () => {
    const page = await changesAfter(STREAM, 0, 5, []);
    expect(page).toEqual({ entries: [], has_more: false });
    expect(ddbMock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
