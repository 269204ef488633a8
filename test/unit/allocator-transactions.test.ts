import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ddb } from '../../shared/clients/dynamodb';
import { setClock } from '../../shared/clock';
import { RateLimitedError } from '../../shared/errors';
import { appendEntry, changeEntry, GuardFailedError, RETRY, type Position } from '../../shared/streams/allocator';
import type { EntryItem } from '../../shared/streams/entry';

const ddbMock = mockClient(ddb);
const STREAM = 'channel:01JABCDEFGHJKMNPQRSTVWXYZ0';
const HEAD = { pk: 'channel#01JABCDEFGHJKMNPQRSTVWXYZ0', sk: 'head' };
const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function entryAt(position: Position): EntryItem {
  return {
    stream: STREAM,
    seq: position.seq,
    change_seq: position.change_seq,
    id: '01JENTRY000000000000000000',
    kind: 'post',
    rev: 1,
    author_id: 'admin-1',
    body_text: 'hello',
    attachments: [],
    is_deleted: false,
    created_at: position.created_at,
  };
}

function cancelled(...codes: (string | { Code: string; Item?: Record<string, unknown> })[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((c) => (typeof c === 'string' ? { Code: c } : c)) as never,
  });
}

function transactions() {
  return ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems ?? []);
}

let restoreClock: () => void;
beforeEach(() => {
  ddbMock.reset();
  restoreClock = setClock(() => NOW);
});
afterEach(() => {
  restoreClock();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('appending an entry to a stream', () => {
  it('commits the counter, the entry, its id pointer and the guards in one transaction', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const guard = { tag: 'idempotency', item: { Put: { TableName: 'test-idempotency', Item: { pk: 'k' }, ConditionExpression: 'attribute_not_exists(pk)' } } };

    const entry = await appendEntry({
      head: HEAD,
      stream: STREAM,
      counters: { head_seq: 41, head_change_seq: 57, last_created_at: '2026-03-01T11:00:00.000Z' },
      build: entryAt,
      guards: () => [guard],
    });

    expect(entry).toMatchObject({ seq: 42, change_seq: 58, created_at: '2026-03-01T12:00:00.000Z' });
    const [items] = transactions();
    expect(items).toHaveLength(4);
    const [head, put, pointer, idem] = items ?? [];
    expect(head?.Update).toMatchObject({
      TableName: 'test-catalog',
      Key: HEAD,
      ConditionExpression: 'attribute_exists(pk) AND #hs = :hs AND #hc = :hc',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(head?.Update?.ExpressionAttributeValues).toMatchObject({ ':hs': 41, ':hc': 57 });
    expect(head?.Update?.ExpressionAttributeNames).toMatchObject({ '#hs': 'head_seq', '#hc': 'head_change_seq' });
    // SET head_seq = 42, head_change_seq = 58, last_created_at = the entry's created_at
    const sets = Object.fromEntries(
      Object.entries(head?.Update?.ExpressionAttributeNames ?? {})
        .filter(([alias]) => alias.startsWith('#s'))
        .map(([alias, name]) => [name, head?.Update?.ExpressionAttributeValues?.[`:${alias.slice(1)}`]]),
    );
    expect(sets).toEqual({ head_seq: 42, head_change_seq: 58, last_created_at: '2026-03-01T12:00:00.000Z' });
    expect(put?.Put).toEqual({ TableName: 'test-entries', Item: entry, ConditionExpression: 'attribute_not_exists(seq)' });
    expect(pointer?.Put).toEqual({
      TableName: 'test-catalog',
      Item: { pk: `entry#${entry.id}`, sk: 'entry', stream: STREAM, seq: 42 },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(idem).toEqual(guard.item);
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('treats a head without counters as (0, 0) but never creates a head', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 0, head_change_seq: 0 }, build: entryAt });
    const [[head] = []] = transactions();
    expect(head?.Update?.ConditionExpression).toBe(
      'attribute_exists(pk) AND (attribute_not_exists(#hs) OR #hs = :hs) AND (attribute_not_exists(#hc) OR #hc = :hc)',
    );
  });

  it('never dates an entry before the stream’s last created_at', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const later = '2026-03-01T12:00:05.000Z';
    const entry = await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 1, head_change_seq: 1, last_created_at: later }, build: entryAt });
    expect(entry.created_at).toBe(later);
  });

  it('after losing the counter race, retries at the position the winner left (from the cancellation’s old image)', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: { pk: { S: HEAD.pk }, head_seq: { N: '42' }, head_change_seq: { N: '60' } } }, 'None', 'None'))
      .resolves({});
    const entry = await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 41, head_change_seq: 57 }, build: entryAt });
    expect(entry).toMatchObject({ seq: 43, change_seq: 61 });
    const [, second] = transactions();
    expect(second?.[0]?.Update?.ExpressionAttributeValues).toMatchObject({ ':hs': 42, ':hc': 60 });
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('re-reads the counter strongly consistently when the cancellation carries no image', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None', 'None')).resolves({});
    ddbMock.on(GetCommand).resolves({ Item: { head_seq: 50, head_change_seq: 70, last_created_at: '2026-03-01T11:59:00.000Z' } });
    const entry = await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 41, head_change_seq: 57 }, build: entryAt });
    expect(entry).toMatchObject({ seq: 51, change_seq: 71 });
    expect(ddbMock.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({ Key: HEAD, ConsistentRead: true });
  });

  it('retries a transaction conflict', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict', 'None')).resolves({});
    ddbMock.on(GetCommand).resolves({ Item: { head_seq: 41, head_change_seq: 57 } });
    const entry = await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 41, head_change_seq: 57 }, build: entryAt });
    expect(entry.seq).toBe(42);
    expect(transactions()).toHaveLength(2);
  });

  it('answers 429 with Retry-After once about 5 s of retries did not win the counter', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    vi.spyOn(Math, 'random').mockReturnValue(1);
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    ddbMock.on(GetCommand).resolves({ Item: { head_seq: 41, head_change_seq: 57 } });

    const started = performance.now();
    const outcome = appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 41, head_change_seq: 57 }, build: entryAt }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await outcome;
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).status).toBe(429);
    expect((error as RateLimitedError).headers).toEqual({ 'Retry-After': String(RETRY.retryAfterSeconds) });
    // Backoff is capped, so the retries fill the budget rather than stopping early.
    expect(elapsed).toBeLessThanOrEqual(RETRY.budgetMs);
    expect(elapsed).toBeGreaterThan(RETRY.budgetMs - RETRY.maxDelayMs);
    expect(transactions().length).toBeGreaterThan(5);
  });

  it('reports a failed guard by its tag instead of retrying', async () => {
    ddbMock.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None', 'ConditionalCheckFailed'));
    const guard = { tag: 'idempotency', item: { Put: { TableName: 'test-idempotency', Item: { pk: 'k' } } } };
    const error = await appendEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 1, head_change_seq: 1 }, build: entryAt, guards: () => [guard] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GuardFailedError);
    expect((error as GuardFailedError).tag).toBe('idempotency');
    expect(transactions()).toHaveLength(1);
  });
});

describe('changing an entry', () => {
  const current: EntryItem = { ...entryAt({ seq: 3, change_seq: 3, created_at: '2026-03-01T10:00:00.000Z' }) };
  const edit = (latest: EntryItem, next: { change_seq: number; changed_at: string }): EntryItem => ({
    ...latest,
    body_text: 'edited',
    rev: latest.rev + 1,
    change_seq: next.change_seq,
    edited_at: next.changed_at,
  });

  it('advances head_change_seq and the entry’s rev in one transaction conditioned on both', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const { entry, changed } = await changeEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 9, head_change_seq: 12 }, current, change: edit });
    expect(changed).toBe(true);
    expect(entry).toMatchObject({ seq: 3, rev: 2, change_seq: 13, body_text: 'edited', edited_at: '2026-03-01T12:00:00.000Z' });
    const [[head, put] = []] = transactions();
    expect(head?.Update?.ExpressionAttributeValues).toMatchObject({ ':hs': 9, ':hc': 12 });
    expect(Object.values(head?.Update?.ExpressionAttributeNames ?? {})).not.toContain('last_created_at');
    expect(put?.Put).toMatchObject({ TableName: 'test-entries', Item: entry, ConditionExpression: '#rev = :rev', ExpressionAttributeValues: { ':rev': 1 } });
  });

  it('re-reads the entry and applies the change to its latest state after a concurrent change', async () => {
    ddbMock.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'ConditionalCheckFailed')).resolves({});
    ddbMock
      .on(GetCommand, { Key: HEAD })
      .resolves({ Item: { head_seq: 9, head_change_seq: 13 } })
      .on(GetCommand, { Key: { stream: STREAM, seq: 3 } })
      .resolves({ Item: { ...current, rev: 2, change_seq: 13, body_text: 'someone else' } });
    const { entry } = await changeEntry({ head: HEAD, stream: STREAM, counters: { head_seq: 9, head_change_seq: 12 }, current, change: edit });
    expect(entry).toMatchObject({ rev: 3, change_seq: 14, body_text: 'edited' });
  });

  it('writes nothing when the change finds nothing to do', async () => {
    const { entry, changed } = await changeEntry({
      head: HEAD,
      stream: STREAM,
      counters: { head_seq: 9, head_change_seq: 12 },
      current,
      change: () => undefined,
    });
    expect(changed).toBe(false);
    expect(entry).toBe(current);
    expect(transactions()).toHaveLength(0);
  });
});
