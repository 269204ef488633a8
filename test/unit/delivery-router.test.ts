import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessDecision } from '../../shared/access/decision';
import { eventBridge } from '../../shared/clients/eventbridge';
import { sqs } from '../../shared/clients/sqs';
import { setClock } from '../../shared/clock';
import type { FanoutMessage } from '../../shared/delivery/fanout-queue';
import type { EntryItem } from '../../shared/streams/entry';

const CHANNEL_ID = '01JCHANNE10000000000000000';
const STREAM = `channel:${CHANNEL_ID}`;
const NOW = Date.parse('2026-03-01T12:00:00.000Z');

interface Sub {
  stream: string;
  connection_id: string;
  user_id: string;
  mode: 'FULL' | 'ARCHIVE_UNTIL';
  windows?: { start?: string; end?: string }[];
  decision_expires_at: number;
  groups?: string[];
}

const state = vi.hoisted(() => ({
  subs: [] as Sub[],
  decisions: new Map<string, AccessDecision | Error>(),
  put: [] as Sub[],
  removed: [] as [string, string][],
}));

vi.mock('../../shared/connections/store', () => ({
  subscribersOf: async function* (stream: string) {
    const mine = state.subs.filter((s) => s.stream === stream);
    // Two pages, as the store pages them.
    yield mine.slice(0, 2);
    yield mine.slice(2);
  },
  putSubscription: vi.fn(async (sub: Sub) => void state.put.push(sub)),
  removeSubscription: vi.fn(async (stream: string, connectionId: string) => void state.removed.push([stream, connectionId])),
}));
vi.mock('../../shared/channels/channels', () => ({
  getChannelHead: async (id: string) => ({ id, name: 'n', admin_ids: ['admin-1'], head_seq: 0, head_change_seq: 0 }),
}));
vi.mock('../../shared/access/channel-access', () => ({
  channelAccessFor: vi.fn(async (principal: { userId: string }) => {
    const d = state.decisions.get(principal.userId);
    if (d instanceof Error) throw d;
    return d ?? { mode: 'DENY', expiresAt: NOW + 60_000 };
  }),
}));

const { handler } = await import('../../lambdas/stream-router');
const { channelAccessFor } = await import('../../shared/access/channel-access');

const sqsMock = mockClient(sqs);
const ebMock = mockClient(eventBridge);
const context = { functionName: 'router', awsRequestId: 'req' } as Context;

function entry(seq: number, overrides: Partial<EntryItem> = {}): EntryItem {
  return {
    stream: STREAM,
    seq,
    change_seq: seq,
    id: `01JP0ST00000000000000000${String(seq).padStart(2, '0')}`,
    kind: 'post',
    rev: 1,
    author_id: 'admin-1',
    body_text: `confidential ${seq}`,
    attachments: [],
    is_deleted: false,
    created_at: '2026-03-01T11:00:00.000Z',
    ...overrides,
  };
}

function streamRecord(e: EntryItem | undefined, sequenceNumber: string, eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord {
  return {
    eventID: sequenceNumber,
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: sequenceNumber,
      Keys: marshall({ stream: STREAM, seq: e?.seq ?? 0 }) as never,
      ...(e ? { NewImage: marshall(e, { removeUndefinedValues: true }) as never } : {}),
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

function queued(): { frame: Record<string, unknown>; connection_ids: string[] }[] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .flatMap((e) => (JSON.parse(e.MessageBody ?? '{}') as FanoutMessage).deliveries as never);
}

const fresh = (connection_id: string, user_id: string, extra: Partial<Sub> = {}): Sub => ({
  stream: STREAM,
  connection_id,
  user_id,
  mode: 'FULL',
  decision_expires_at: NOW + 60_000,
  ...extra,
});

let restoreClock: () => void;
beforeEach(() => {
  sqsMock.reset();
  ebMock.reset();
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  ebMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  state.subs = [];
  state.decisions.clear();
  state.put = [];
  state.removed = [];
  vi.mocked(channelAccessFor).mockClear();
  restoreClock = setClock(() => NOW);
});
afterEach(() => restoreClock());

describe('routing committed changes to live subscribers', () => {
  it('queues one ids-only delta per change for FULL subscribers whose windows hold the entry', async () => {
    state.subs = [
      fresh('c-all', 'u1'),
      fresh('c-window', 'u2', { windows: [{ end: '2026-03-01T11:30:00.000Z' }] }),
      fresh('c-outside', 'u3', { windows: [{ start: '2026-03-01T11:30:00.000Z' }] }),
      fresh('c-archive', 'u4', { mode: 'ARCHIVE_UNTIL', windows: [{}] }),
    ];
    const result = await handler({ Records: [streamRecord(entry(1), '100'), streamRecord(entry(2, { rev: 2, change_seq: 3, edited_at: NOW_ISO() }), '101', 'MODIFY')] }, context);

    expect(result.batchItemFailures).toEqual([]);
    const deliveries = queued();
    expect(deliveries).toEqual([
      { frame: { type: 'delta', stream: STREAM, seq: 1, id: entry(1).id, op: 'created', rev: 1, change_seq: 1 }, connection_ids: ['c-all', 'c-window'] },
      { frame: { type: 'delta', stream: STREAM, seq: 2, id: entry(2).id, op: 'updated', rev: 2, change_seq: 3 }, connection_ids: ['c-all', 'c-window'] },
    ]);
    // Both changes travel in one message of one SendMessageBatch.
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(JSON.stringify(deliveries)).not.toContain('confidential');
  });

  it('puts one EventBridge event per change in one PutEvents call', async () => {
    await handler({ Records: [streamRecord(entry(1), '100'), streamRecord(entry(2, { rev: 2, is_deleted: true, body_text: null }), '101', 'MODIFY')] }, context);
    const calls = ebMock.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.Entries?.map((e) => e.DetailType)).toEqual(['entry.created', 'entry.deleted']);
  });

  it('queues nothing when nobody listens, but still announces the change', async () => {
    await handler({ Records: [streamRecord(entry(1), '100')] }, context);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(ebMock.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('fails a bad record alone and ignores removals', async () => {
    state.subs = [fresh('c1', 'u1')];
    const result = await handler(
      { Records: [streamRecord(undefined, '100', 'MODIFY'), streamRecord(entry(1), '101', 'REMOVE'), streamRecord(entry(2), '102')] },
      context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '100' }]);
    expect(queued().map((d) => d.frame.seq)).toEqual([2]);
  });

  it('reports the records whose deltas could not be queued', async () => {
    state.subs = [fresh('c1', 'u1')];
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('queue down'));
    const result = await handler({ Records: [streamRecord(entry(1), '100'), streamRecord(entry(2), '101')] }, context);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['100', '101']);
  });

  it('reads each stream’s subscribers once per invocation', async () => {
    state.subs = [fresh('c1', 'u1', { decision_expires_at: NOW - 1 })];
    state.decisions.set('u1', { mode: 'FULL', expiresAt: NOW + 300_000 });
    await handler({ Records: [1, 2, 3].map((n) => streamRecord(entry(n), String(100 + n))) }, context);
    expect(channelAccessFor).toHaveBeenCalledTimes(1);
  });
});

describe('subscriptions whose access decision expired', () => {
  it('are asked again: still FULL → stored with the new decision and delivered', async () => {
    state.subs = [fresh('c1', 'u1', { decision_expires_at: NOW - 1 })];
    state.decisions.set('u1', { mode: 'FULL', windows: [{ start: '2026-01-01T00:00:00.000Z' }], expiresAt: NOW + 300_000 });
    await handler({ Records: [streamRecord(entry(1), '100')] }, context);
    expect(channelAccessFor).toHaveBeenCalledWith({ userId: 'u1', groups: [] }, expect.objectContaining({ id: CHANNEL_ID }));
    expect(state.put).toEqual([
      { stream: STREAM, connection_id: 'c1', user_id: 'u1', mode: 'FULL', windows: [{ start: '2026-01-01T00:00:00.000Z' }], decision_expires_at: NOW + 300_000 },
    ]);
    expect(queued()).toEqual([expect.objectContaining({ connection_ids: ['c1'] })]);
  });

  it.each<[string, AccessDecision]>([
    ['DENY', { mode: 'DENY', expiresAt: NOW + 60_000 }],
    ['ARCHIVE_UNTIL', { mode: 'ARCHIVE_UNTIL', windows: [{ end: '2026-02-01T00:00:00.000Z' }], expiresAt: NOW + 60_000 }],
  ])('lose the subscription on %s and get access_changed instead of the delta', async (_, decision) => {
    state.subs = [fresh('c1', 'u1', { decision_expires_at: NOW - 1 }), fresh('c2', 'u2')];
    state.decisions.set('u1', decision);
    await handler({ Records: [streamRecord(entry(1), '100')] }, context);
    expect(state.removed).toEqual([[STREAM, 'c1']]);
    const deliveries = queued();
    expect(deliveries).toContainEqual({ frame: { type: 'access_changed', stream: STREAM }, connection_ids: ['c1'] });
    expect(deliveries).toContainEqual(expect.objectContaining({ frame: expect.objectContaining({ type: 'delta' }), connection_ids: ['c2'] }));
  });

  it('are asked again as the principal that subscribed: a platform admin keeps its groups and its subscription', async () => {
    state.subs = [fresh('c1', 'ops', { decision_expires_at: NOW - 1, groups: ['platform_admin'] }), fresh('c2', 'u2', { decision_expires_at: NOW - 1 })];
    // The real rule gives platform admins FULL without asking; here the stand-in answers by user.
    state.decisions.set('ops', { mode: 'FULL', expiresAt: NOW + 300_000 });
    await handler({ Records: [streamRecord(entry(1), '100')] }, context);
    expect(channelAccessFor).toHaveBeenCalledWith({ userId: 'ops', groups: ['platform_admin'] }, expect.objectContaining({ id: CHANNEL_ID }));
    expect(channelAccessFor).toHaveBeenCalledWith({ userId: 'u2', groups: [] }, expect.objectContaining({ id: CHANNEL_ID }));
    expect(state.put).toEqual([expect.objectContaining({ connection_id: 'c1', user_id: 'ops', groups: ['platform_admin'], decision_expires_at: NOW + 300_000 })]);
    expect(state.removed).toEqual([[STREAM, 'c2']]);
    expect(queued()).toContainEqual(expect.objectContaining({ frame: expect.objectContaining({ type: 'delta' }), connection_ids: ['c1'] }));
  });

  it('receive nothing while the access provider fails, and keep the subscription', async () => {
    state.subs = [fresh('c1', 'u1', { decision_expires_at: NOW - 1 })];
    state.decisions.set('u1', new Error('provider timeout'));
    const result = await handler({ Records: [streamRecord(entry(1), '100')] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(queued()).toEqual([]);
    expect(state.removed).toEqual([]);
  });
});

function NOW_ISO(): string {
  return new Date(NOW).toISOString();
}
