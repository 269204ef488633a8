import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as createChannel } from '../../lambdas/http/channels-create';
import { handler as getChannel } from '../../lambdas/http/channels-get';
import type { HttpEvent } from '../../shared/http/handler';

const ddb = mockClient(DynamoDBDocumentClient);
const context = { functionName: 'test', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
const CHANNEL = '01JBZ2Y6Q7S8T9V0W1X2Y3Z4A5';

function event(options: { body?: string; claims?: Record<string, string> | null; params?: Record<string, string> }): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'X',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    isBase64Encoded: false,
    pathParameters: options.params,
    requestContext: { authorizer: options.claims === null ? undefined : { jwt: { claims: options.claims ?? { sub: 'root', 'cognito:groups': '[platform_admin]' }, scopes: null } } },
  } as unknown as HttpEvent;
}

async function call(h: typeof createChannel, e: HttpEvent): Promise<{ status: number; body: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown> }> {
  const res = (await h(e, context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

beforeEach(() => ddb.reset());

describe('POST /v1/channels', () => {
  it('creates a channel whose admins default to its creator', async () => {
    ddb.on(PutCommand).resolves({});
    const res = await call(createChannel, event({ body: JSON.stringify({ name: 'news', description: 'd' }) }));
    expect(res.status).toBe(201);
    expect(res.body.channel).toMatchObject({ name: 'news', description: 'd', admin_ids: ['root'], head_seq: 0, head_change_seq: 0 });
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put?.Item).toMatchObject({ pk: `channel#${(res.body.channel as { id: string }).id}`, sk: 'head', type: 'channel' });
  });

  it('forbids anyone but a platform admin', async () => {
    const res = await call(createChannel, event({ body: JSON.stringify({ name: 'news' }), claims: { sub: 'ana' } }));
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'access_denied' } } });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers 401 without verified claims', async () => {
    expect((await call(createChannel, event({ body: '{"name":"x"}', claims: null }))).status).toBe(401);
  });

  it.each([
    ['a missing name', {}, 'body.name'],
    ['an empty name', { name: '  ' }, 'body.name'],
    ['an unknown field', { name: 'x', colour: 'red' }, 'body'],
    ['repeated admins', { name: 'x', admin_ids: ['a', 'a'] }, 'body.admin_ids'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const res = await call(createChannel, event({ body: JSON.stringify(body) }));
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_request');
    expect(res.body.error?.message.startsWith(field)).toBe(true);
  });

  it('answers 400 to a body that is not JSON and 413 to one over 256 KB', async () => {
    expect((await call(createChannel, event({ body: '{nope' }))).status).toBe(400);
    const big = await call(createChannel, event({ body: JSON.stringify({ name: 'x'.repeat(300 * 1024) }) }));
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('answers a failing store with a bare 500 that shows no internals', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'secret detail', $metadata: {} }));
    const res = await call(createChannel, event({ body: JSON.stringify({ name: 'news' }) }));
    expect(res).toEqual({ status: 500, body: { error: { code: 'internal', message: 'Internal error.' } } });
  });
});

describe('GET /v1/channels/{channel_id}', () => {
  it('answers the channel with its head positions, read strongly consistently', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: `channel#${CHANNEL}`, sk: 'head', type: 'channel', id: CHANNEL, name: 'news', admin_ids: ['root'], head_seq: 3, head_change_seq: 5, created_at: '2026-01-01T00:00:00.000Z', last_created_at: 'x' } });
    const res = await call(getChannel, event({ params: { channel_id: CHANNEL } }));
    expect(res).toEqual({ status: 200, body: { channel: { id: CHANNEL, name: 'news', admin_ids: ['root'], head_seq: 3, head_change_seq: 5, created_at: '2026-01-01T00:00:00.000Z' } } });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('answers 404 for an unknown channel and 400 for an id that is not a ULID', async () => {
    ddb.on(GetCommand).resolves({});
    expect((await call(getChannel, event({ params: { channel_id: CHANNEL } }))).body.error?.code).toBe('not_found');
    expect((await call(getChannel, event({ params: { channel_id: 'nope' } }))).status).toBe(400);
  });
});
