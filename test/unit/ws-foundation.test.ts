import 'aws-sdk-client-mock-vitest/extend';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as connect } from '../../lambdas/ws/connect';
import { handler as defaultRoute } from '../../lambdas/ws/default';
import { handler as disconnect } from '../../lambdas/ws/disconnect';
import { handler as ping } from '../../lambdas/ws/ping';
import { setClock } from '../../shared/clock';
import { PRESENCE_TTL_SECONDS } from '../../shared/connections/store';
import type { WsEvent } from '../../shared/ws/handler';

const ddb = mockClient(DynamoDBDocumentClient);
const context = { functionName: 'test', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
const NOW = Date.parse('2026-03-01T10:00:00.000Z');

function wsEvent(routeKey: string, body?: string, authorizerContext: Record<string, unknown> | null = { user_id: 'ana', groups: '' }): WsEvent {
  return {
    body,
    isBase64Encoded: false,
    requestContext: {
      routeKey,
      connectionId: 'conn-1',
      eventType: routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
      stage: 'test',
      domainName: 'x',
      apiId: 'a',
      requestId: 'r',
      messageId: 'm',
      connectedAt: 0,
      requestTimeEpoch: 0,
      extendedRequestId: 'e',
      messageDirection: 'IN',
      requestTime: '',
      identity: { sourceIp: '127.0.0.1' },
      ...(authorizerContext ? { authorizer: authorizerContext } : {}),
    },
  } as unknown as WsEvent;
}

const frameOf = (res: unknown) => JSON.parse((res as { body: string }).body) as Record<string, unknown>;

let restoreClock: () => void;
beforeEach(() => {
  ddb.reset();
  restoreClock = setClock(() => NOW);
});
afterEach(() => restoreClock());

describe('$connect', () => {
  it('stores the connection under the authorized user', async () => {
    ddb.on(PutCommand).resolves({});
    await expect(connect(wsEvent('$connect'))).resolves.toEqual({ statusCode: 200 });
    // The item's full layout and TTL are the connection store's specification.
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, { Item: expect.objectContaining({ pk: 'conn#conn-1', sk: 'meta', user_id: 'ana' }) });
  });

  it('takes the user from the authorizer’s principalId when the context carries no user_id', async () => {
    ddb.on(PutCommand).resolves({});
    await connect(wsEvent('$connect', undefined, { principalId: 'bo' }));
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ user_id: 'bo' }) });
  });

  it('refuses a connection without an authorized user and stores nothing', async () => {
    await expect(connect(wsEvent('$connect', undefined, null))).resolves.toEqual({ statusCode: 401 });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });
});

describe('$disconnect', () => {
  it('removes the connection and both sides of each of its subscriptions', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'conn#conn-1', sk: 'meta' }, { pk: 'conn#conn-1', sk: 'sub#channel:X', stream: 'channel:X' }] });
    ddb.on(BatchWriteCommand).resolves({});
    await expect(disconnect(wsEvent('$disconnect'))).resolves.toEqual({ statusCode: 200 });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(BatchWriteCommand, {
      RequestItems: {
        'test-connections': [
          { DeleteRequest: { Key: { pk: 'conn#conn-1', sk: 'meta' } } },
          { DeleteRequest: { Key: { pk: 'conn#conn-1', sk: 'sub#channel:X' } } },
          { DeleteRequest: { Key: { pk: 'sub#channel:X', sk: 'conn-1' } } },
        ],
      },
    });
  });
});

describe('ping', () => {
  it('answers pong and records the presence heartbeat', async () => {
    ddb.on(PutCommand).resolves({});
    const res = await ping(wsEvent('ping', JSON.stringify({ action: 'ping' })), context);
    expect(frameOf(res)).toEqual({ type: 'pong' });
    expect(ddb).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: { pk: 'presence#ana', sk: 'presence', last_seen_at: '2026-03-01T10:00:00.000Z', last_connection_id: 'conn-1', expires_at: NOW / 1000 + PRESENCE_TTL_SECONDS },
    });
  });

  it('answers a frame with unknown fields with an invalid_request error frame and records nothing', async () => {
    const res = await ping(wsEvent('ping', JSON.stringify({ action: 'ping', extra: 1 })), context);
    expect(frameOf(res)).toMatchObject({ type: 'error', code: 'invalid_request' });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('answers a failing store with an internal error frame that shows no internals', async () => {
    ddb.on(PutCommand).rejects(new Error('secret detail'));
    const res = await ping(wsEvent('ping', JSON.stringify({ action: 'ping' })), context);
    expect(frameOf(res)).toEqual({ type: 'error', code: 'internal', message: 'Internal error.' });
  });
});

describe('$default', () => {
  it.each([
    ['an unknown action', JSON.stringify({ action: 'dance' }), 'Unknown action "dance".'],
    ['a frame without an action', JSON.stringify({ hello: 1 }), 'A frame must name its action.'],
    ['a frame that is not JSON', '{oops', 'The frame is not valid JSON.'],
    ['an empty frame', '', 'The frame is not valid JSON.'],
    ['a JSON array', '[1,2]', 'A frame must be a JSON object with an action.'],
    ['a JSON string', '"ping"', 'A frame must be a JSON object with an action.'],
  ])('answers %s with an invalid_request error frame', async (_name, body, message) => {
    const res = await defaultRoute(wsEvent('$default', body), context);
    expect(res).toMatchObject({ statusCode: 200 });
    expect(frameOf(res)).toEqual({ type: 'error', code: 'invalid_request', message });
  });

  it('bounds how much of an unknown action it echoes', async () => {
    const res = await defaultRoute(wsEvent('$default', JSON.stringify({ action: 'x'.repeat(1000) })), context);
    expect(frameOf(res).message).toBe(`Unknown action "${'x'.repeat(64)}".`);
  });

  it('names the stream an unroutable frame was about', async () => {
    const res = await defaultRoute(wsEvent('$default', JSON.stringify({ action: 'shout', stream: 'channel:X' })), context);
    expect(frameOf(res)).toEqual({ type: 'error', stream: 'channel:X', code: 'invalid_request', message: 'Unknown action "shout".' });
  });
});
