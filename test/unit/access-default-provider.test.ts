import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/access-provider';
import { setClock } from '../../shared/clock';

const ddb = mockClient(DynamoDBDocumentClient);
const NOW = Date.parse('2026-02-25T00:00:00.000Z');
let restore: () => void;

beforeEach(() => {
  ddb.reset();
  restore = setClock(() => NOW);
});
afterEach(() => restore());

const stored = (periods: unknown[], backfill?: number) =>
  ddb.on(BatchGetCommand).resolves({
    Responses: { 'test-entitlements': [{ pk: 'channel#C#user#U', sk: 'periods', periods }, ...(backfill === undefined ? [] : [{ pk: 'channel#C', sk: 'policy', backfill_days: backfill }])] },
  });

describe('the default access provider', () => {
  it('answers CanReadChannel with the seed’s windows from stored periods and the backfill policy', async () => {
    stored([{ start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-20T00:00:00.000Z' }], 7);
    const answer = await handler({ type: 'CanReadChannel', user_id: 'U', channel_id: 'C' });
    expect(answer).toEqual({ mode: 'FULL', read_windows: [{ end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-13T00:00:00.000Z' }], ttl_seconds: 300 });
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.['test-entitlements']?.ConsistentRead).toBe(true);
  });

  it('never lets its answer be cached past the end of the active period', async () => {
    stored([{ start: '2026-02-01T00:00:00.000Z', end: '2026-02-25T00:01:40.000Z' }]);
    expect(await handler({ type: 'CanReadChannel', user_id: 'U', channel_id: 'C' })).toMatchObject({ mode: 'FULL', ttl_seconds: 100 });
  });

  it('denies a user with no periods', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { 'test-entitlements': [] } });
    expect(await handler({ type: 'CanReadChannel', user_id: 'U', channel_id: 'C' })).toMatchObject({ mode: 'DENY', read_windows: [] });
  });

  it('records a subscription period, normalising its times', async () => {
    ddb.on(UpdateCommand).resolves({});
    await handler({ type: 'RecordSubscription', user_id: 'U', channel_id: 'C', start: '2026-02-20T01:00:00+01:00' });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ pk: 'channel#C#user#U', sk: 'periods' });
    expect(input?.ExpressionAttributeValues?.[':p']).toEqual([{ start: '2026-02-20T00:00:00.000Z' }]);
  });

  it('ends the open period with a condition that it is still open', async () => {
    stored([{ start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' }, { start: '2026-02-20T00:00:00.000Z' }]);
    ddb.on(UpdateCommand).resolves({});
    await handler({ type: 'EndSubscription', user_id: 'U', channel_id: 'C', end: '2026-02-24T00:00:00.000Z' });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toBe('SET periods[1].#end = :end');
    expect(input?.ConditionExpression).toBe('attribute_not_exists(periods[1].#end)');
  });

  it('refuses to end a subscription that has no open period', async () => {
    stored([{ start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' }]);
    await expect(handler({ type: 'EndSubscription', user_id: 'U', channel_id: 'C', end: '2026-02-24T00:00:00.000Z' })).rejects.toMatchObject({ status: 409 });
  });

  it('stores a channel’s backfill policy', async () => {
    ddb.on(PutCommand).resolves({});
    await handler({ type: 'SetBackfillPolicy', channel_id: 'C', backfill_days: 7 });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toEqual({ pk: 'channel#C', sk: 'policy', backfill_days: 7 });
  });

  it.each([
    ['a missing user', { type: 'CanReadChannel', channel_id: 'C' }, 'request.user_id'],
    ['a bad timestamp', { type: 'RecordSubscription', user_id: 'U', channel_id: 'C', start: 'last tuesday' }, 'request.start'],
    ['an end before the start', { type: 'RecordSubscription', user_id: 'U', channel_id: 'C', start: '2026-02-20T00:00:00Z', end: '2026-02-01T00:00:00Z' }, 'request.end'],
    ['negative backfill', { type: 'SetBackfillPolicy', channel_id: 'C', backfill_days: -1 }, 'request.backfill_days'],
    ['an unknown type', { type: 'GrantEverything' }, 'request.type'],
  ])('rejects %s with a message naming the field', async (_name, event, field) => {
    await expect(handler(event)).rejects.toMatchObject({ status: 400, message: expect.stringContaining(field) });
  });
});
