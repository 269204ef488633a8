import { DynamoDBDocumentClient, PutCommand, QueryCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler as connect } from '../../lambdas/ws/connect';
import { handler as defaultRoute } from '../../lambdas/ws/default';
import { handler as disconnect } from '../../lambdas/ws/disconnect';
import { handler as ping } from '../../lambdas/ws/ping';
import { handler as authorizer } from '../../lambdas/ws/authorizer';
import { CONNECTION_TTL_SECONDS } from '../../shared/connections/store';
import type { WsEvent } from '../../shared/ws/handler';

const ddb = mockClient(DynamoDBDocumentClient);
const context = { functionName: 'test', awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function wsEvent(routeKey: string, body?: string, authorizerContext: Record<string, unknown> | null = { user_id: 'ana', groups: '' }): WsEvent {
  return {
    body,
    isBase64Encoded: false,
    requestContext: { routeKey, connectionId: 'conn-1', eventType: 'MESSAGE', stage: 'test', domainName: 'x', apiId: 'a', requestId: 'r', messageId: 'm', connectedAt: 0, requestTimeEpoch: 0, extendedRequestId: 'e', messageDirection: 'IN', requestTime: '', identity: { sourceIp: '127.0.0.1' }, authorizer: authorizerContext ?? undefined },
  } as unknown as WsEvent;
}

beforeEach(() => ddb.reset());

describe('$connect', () => {
  it('stores the connection under the authorized user with a TTL past API Gateway’s 2 h limit', async () => {
    ddb.on(PutCommand).resolves({});
    const before = Math.floor(Date.now() / 1000);
    await expect(connect(wsEvent('$connect'))).resolves.toEqual({ statusCode: 200 });
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item as Record<string, unknown>;
    expect(item).toMatchObject({ pk: 'conn#conn-1', sk: 'meta', connection_id: 'conn-1', user_id: 'ana' });
    expect(item.expires_at as number).toBeGreaterThanOrEqual(before + CONNECTION_TTL_SECONDS);
    expect(CONNECTION_TTL_SECONDS).toBeGreaterThan(2 * 3600);
  });

  it('refuses a connection without an authorized user', async () => {
    await expect(connect(wsEvent('$connect', undefined, null))).resolves.toEqual({ statusCode: 401 });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('$disconnect', () => {
  it('removes the connection and both sides of each of its subscriptions', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'conn#conn-1', sk: 'meta' }, { pk: 'conn#conn-1', sk: 'sub#channel:X', stream: 'channel:X' }] });
    ddb.on(BatchWriteCommand).resolves({});
    await disconnect(wsEvent('$disconnect'));
    const deletes = Object.values(ddb.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems ?? {})[0]?.map((r) => r.DeleteRequest?.Key);
    expect(deletes).toEqual([
      { pk: 'conn#conn-1', sk: 'meta' },
      { pk: 'conn#conn-1', sk: 'sub#channel:X' },
      { pk: 'sub#channel:X', sk: 'conn-1' },
    ]);
  });
});

describe('ping', () => {
  it('answers pong and records the presence heartbeat', async () => {
    ddb.on(PutCommand).resolves({});
    const res = await ping(wsEvent('ping', JSON.stringify({ action: 'ping' })), context);
    expect(JSON.parse((res as { body: string }).body)).toEqual({ type: 'pong' });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ pk: 'presence#ana', sk: 'presence' });
  });

  it('answers a frame with unknown fields with an invalid_request error frame', async () => {
    const res = await ping(wsEvent('ping', JSON.stringify({ action: 'ping', extra: 1 })), context);
    expect(JSON.parse((res as { body: string }).body)).toMatchObject({ type: 'error', code: 'invalid_request' });
  });
});

describe('$default', () => {
  it.each([
    ['an unknown action', JSON.stringify({ action: 'dance' }), 'Unknown action "dance".'],
    ['a frame without an action', JSON.stringify({ hello: 1 }), 'A frame must name its action.'],
    ['a frame that is not JSON', '{oops', 'The frame is not valid JSON.'],
    ['a JSON array', '[1,2]', 'A frame must be a JSON object with an action.'],
  ])('answers %s with an error frame', async (_name, body, message) => {
    const res = await defaultRoute(wsEvent('$default', body));
    expect(JSON.parse((res as { body: string }).body)).toEqual({ type: 'error', code: 'invalid_request', message });
  });
});

describe('the $connect authorizer', () => {
  const methodArn = 'arn:aws:execute-api:us-east-1:000000000000:api/test/$connect';
  it.each([
    ['no token', {}],
    ['a malformed token', { token: 'abc' }],
  ])('refuses %s with Unauthorized', async (_name, query) => {
    await expect(authorizer({ type: 'REQUEST', methodArn, queryStringParameters: query } as never)).rejects.toThrow('Unauthorized');
  });
});
