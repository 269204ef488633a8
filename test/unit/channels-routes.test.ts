import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as createChannel } from '../../lambdas/http/channels-create';
import { handler as getChannel } from '../../lambdas/http/channels-get';
import { channelKey, isChannelAdmin, toChannel } from '../../shared/channels/channels';
import { setClock } from '../../shared/clock';
import type { HttpEvent } from '../../shared/http/handler';
import { ulidSchema } from '../../shared/validation';

const ddb = mockClient(DynamoDBDocumentClient);
const context = { functionName: 'test', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
const CHANNEL = '01JBZ2Y6Q7S8T9V0W1X2Y3Z4A5';
const NOW_ISO = '2026-03-01T10:00:00.000Z';
const PLATFORM_ADMIN = { sub: 'root', 'cognito:groups': '[platform_admin]' };

interface EventOptions {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly claims?: Record<string, string> | null;
  readonly params?: Record<string, string>;
}

function event(options: EventOptions): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'X',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    isBase64Encoded: options.isBase64Encoded ?? false,
    pathParameters: options.params,
    requestContext: { authorizer: options.claims === null ? undefined : { jwt: { claims: options.claims ?? PLATFORM_ADMIN, scopes: null } } },
  } as unknown as HttpEvent;
}

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; details?: { issues?: { field: string; message: string }[] } } } & Record<string, unknown>;
}

async function call(handler: typeof createChannel, e: HttpEvent): Promise<Answer> {
  const res = (await handler(e, context)) as { statusCode: number; body: string };
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

const post = (body: unknown, claims?: Record<string, string> | null) =>
  call(createChannel, event({ body: typeof body === 'string' ? body : JSON.stringify(body), claims }));

let restoreClock: () => void;
beforeEach(() => {
  ddb.reset();
  restoreClock = setClock(() => Date.parse(NOW_ISO));
});
afterEach(() => restoreClock());

describe('POST /v1/channels', () => {
  it('creates a channel whose admins default to its creator, with empty positions, written only if new', async () => {
    ddb.on(PutCommand).resolves({});
    const res = await post({ name: 'news', description: 'd' });
    expect(res.status).toBe(201);
    const channel = res.body.channel as { id: string };
    expect(ulidSchema.safeParse(channel.id).success).toBe(true);
    expect(channel).toEqual({ id: channel.id, name: 'news', description: 'd', admin_ids: ['root'], head_seq: 0, head_change_seq: 0, created_at: NOW_ISO });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: 'test-catalog',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { pk: `channel#${channel.id}`, sk: 'head', type: 'channel', created_by: 'root', ...channel },
    });
  });

  it('takes the admins it is given', async () => {
    ddb.on(PutCommand).resolves({});
    const res = await post({ name: 'news', admin_ids: ['ed', 'flo'] });
    expect(res.body.channel).toMatchObject({ admin_ids: ['ed', 'flo'] });
    expect(res.body.channel).not.toHaveProperty('description');
  });

  it('accepts a platform admin named by the plain groups claim', async () => {
    ddb.on(PutCommand).resolves({});
    expect((await post({ name: 'news' }, { sub: 'root', groups: '[platform_admin]' })).status).toBe(201);
  });

  it('forbids anyone but a platform admin', async () => {
    const res = await post({ name: 'news' }, { sub: 'ana', 'cognito:groups': '[editors]' });
    expect(res).toEqual({ status: 403, body: { error: { code: 'access_denied', message: 'Only platform admins may create channels.' } } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers 401 without verified claims', async () => {
    const res = await post({ name: 'news' }, null);
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['a missing name', {}, 'body.name'],
    ['a blank name', { name: '  ' }, 'body.name'],
    ['a name over 200 characters', { name: 'x'.repeat(201) }, 'body.name'],
    ['a name that is not a string', { name: 7 }, 'body.name'],
    ['a description over 2000 characters', { name: 'x', description: 'd'.repeat(2001) }, 'body.description'],
    ['an unknown field', { name: 'x', colour: 'red' }, 'body'],
    ['an empty admin list', { name: 'x', admin_ids: [] }, 'body.admin_ids'],
    ['more than 50 admins', { name: 'x', admin_ids: Array.from({ length: 51 }, (_, i) => `u${i}`) }, 'body.admin_ids'],
    ['an empty admin id', { name: 'x', admin_ids: ['a', ''] }, 'body.admin_ids.1'],
    ['repeated admins', { name: 'x', admin_ids: ['a', 'a'] }, 'body.admin_ids'],
    ['a body that is an array', [], 'body'],
    ['a body that is null', null, 'body'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_request');
    expect(res.body.error?.message.startsWith(`${field}:`)).toBe(true);
    expect(res.body.error?.details?.issues?.[0]?.field).toBe(field);
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers 400 to a missing body and to one that is not JSON', async () => {
    expect((await call(createChannel, event({}))).body.error?.code).toBe('invalid_request');
    expect(await post('{nope')).toEqual({ status: 400, body: { error: { code: 'invalid_request', message: 'The request body is not valid JSON.' } } });
  });

  it('answers 413 to a body over 256 KB, base64-encoded or not', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(300 * 1024) });
    expect(await post(big)).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    const encoded = await call(createChannel, event({ body: Buffer.from(big).toString('base64'), isBase64Encoded: true }));
    expect(encoded).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers a failing store with a bare 500 that shows no internals', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'secret detail', $metadata: {} }));
    expect(await post({ name: 'news' })).toEqual({ status: 500, body: { error: { code: 'internal', message: 'Internal error.' } } });
  });
});

describe('GET /v1/channels/{channel_id}', () => {
  const head = {
    ...channelKey(CHANNEL),
    type: 'channel',
    id: CHANNEL,
    name: 'news',
    admin_ids: ['root'],
    created_by: 'root',
    head_seq: 3,
    head_change_seq: 5,
    created_at: '2026-01-01T00:00:00.000Z',
    last_created_at: '2026-02-01T00:00:00.000Z',
  };

  it('answers the channel with its head positions, read strongly consistently', async () => {
    ddb.on(GetCommand).resolves({ Item: head });
    const res = await call(getChannel, event({ params: { channel_id: CHANNEL }, claims: { sub: 'ana' } }));
    expect(res).toEqual({
      status: 200,
      body: { channel: { id: CHANNEL, name: 'news', admin_ids: ['root'], head_seq: 3, head_change_seq: 5, created_at: '2026-01-01T00:00:00.000Z' } },
    });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(GetCommand, { TableName: 'test-catalog', Key: { pk: `channel#${CHANNEL}`, sk: 'head' }, ConsistentRead: true });
  });

  it('answers 404 for an unknown channel', async () => {
    ddb.on(GetCommand).resolves({});
    const res = await call(getChannel, event({ params: { channel_id: CHANNEL } }));
    expect(res).toEqual({ status: 404, body: { error: { code: 'not_found', message: `Channel ${CHANNEL} does not exist.` } } });
  });

  it('answers 404 for a head item that no channel creation wrote', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...channelKey(CHANNEL), head_seq: 1, head_change_seq: 1 } });
    expect((await call(getChannel, event({ params: { channel_id: CHANNEL } }))).status).toBe(404);
  });

  it.each([['not a ULID', 'nope'], ['lower case', CHANNEL.toLowerCase()], ['too long', `${CHANNEL}0`]])(
    'answers 400 naming the path parameter for an id that is %s',
    async (_name, id) => {
      const res = await call(getChannel, event({ params: { channel_id: id } }));
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', details: { issues: [{ field: 'path.channel_id' }] } } } });
      expect(ddb).not.toHaveReceivedAnyCommand();
    },
  );

  it('answers 401 without verified claims and 400 to a body it does not take', async () => {
    expect((await call(getChannel, event({ params: { channel_id: CHANNEL }, claims: null }))).status).toBe(401);
    expect((await call(getChannel, event({ params: { channel_id: CHANNEL }, body: '{}' }))).status).toBe(400);
  });
});

describe('channel admins', () => {
  it('are the users the channel names, whatever their groups', () => {
    expect(isChannelAdmin({ userId: 'ed', groups: [] }, { admin_ids: ['ed'] })).toBe(true);
    expect(isChannelAdmin({ userId: 'root', groups: ['platform_admin'] }, { admin_ids: ['ed'] })).toBe(false);
  });

  it('leave the stored bookkeeping out of the API shape', () => {
    const channel = toChannel({ id: CHANNEL, name: 'n', admin_ids: ['ed'], head_seq: 1, head_change_seq: 2, created_at: NOW_ISO, last_created_at: NOW_ISO });
    expect(channel).toEqual({ id: CHANNEL, name: 'n', admin_ids: ['ed'], head_seq: 1, head_change_seq: 2, created_at: NOW_ISO });
  });
});
