import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GetConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startRuntime, type Runtime } from '../../local/runtime';

let rt: Runtime;

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
});

afterAll(async () => {
  await rt?.stop();
});

/** A connected socket and the frames it receives, in order. */
async function connect(token: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[]; next: () => Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(`${rt.endpoints.ws}?token=${token}`);
  const frames: Record<string, unknown>[] = [];
  const waiting: ((f: Record<string, unknown>) => void)[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = () => (frames.length ? Promise.resolve(frames.shift() as Record<string, unknown>) : new Promise<Record<string, unknown>>((r) => waiting.push(r)));
  return { ws, frames, next };
}

const connectionsApi = () =>
  new ApiGatewayManagementApiClient({ endpoint: rt.endpoints.connections, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

describe('the local WebSocket API', () => {
  it('answers ping with pong on a connection opened with a local token', async () => {
    const { ws, next } = await connect(await rt.token('alice'));
    ws.send(JSON.stringify({ action: 'ping' }));
    expect(await next()).toEqual({ type: 'pong' });
    ws.close();
  });

  it('refuses the upgrade for a tampered or missing token', async () => {
    const token = await rt.token('mallory');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'alice' })).toString('base64url');
    for (const bad of [`${header}.${forged}.${signature}`, '']) {
      const ws = new WebSocket(`${rt.endpoints.ws}?token=${bad}`);
      const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      expect(status).toBe(401);
    }
  });

  it('answers an unknown action or a malformed frame with an error frame and stays open', async () => {
    const { ws, next } = await connect(await rt.token('bob'));
    ws.send(JSON.stringify({ action: 'dance' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'invalid_request' });
    ws.send('not json');
    expect(await next()).toMatchObject({ type: 'error', code: 'invalid_request' });
    ws.send(JSON.stringify({ action: 'ping' }));
    expect(await next()).toEqual({ type: 'pong' });
    ws.close();
  });

  it('takes a 32 KB frame and closes a connection that sends a bigger one with 1009, as API Gateway does', async () => {
    const { ws, next } = await connect(await rt.token('grace'));
    // Taken and routed (to an error frame: it is no JSON), the connection open.
    ws.send('x'.repeat(32 * 1024));
    expect(await next()).toMatchObject({ type: 'error', code: 'invalid_request' });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(32 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  it('serves @connections: post, describe, delete, and Gone for a closed connection', async () => {
    const { ws, next } = await connect(await rt.token('carol'));
    ws.send(JSON.stringify({ action: 'ping' }));
    await next();
    // The connection id is known server-side only: read it from the connections table's by_user index.
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient, QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.endpoints.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }));
    const { Items = [] } = await ddb.send(new QueryCommand({ TableName: rt.tableNames.connections, IndexName: 'by_user', KeyConditionExpression: 'user_id = :u', ExpressionAttributeValues: { ':u': 'carol' } }));
    const connectionId = Items[0]?.connection_id as string;
    expect(connectionId).toBeTruthy();
    const api = connectionsApi();
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"type":"hello"}') }));
    expect(await next()).toEqual({ type: 'hello' });
    const described = await api.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    const closed = new Promise((r) => ws.once('close', r));
    await api.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    await closed;
    await expect(api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{}') }))).rejects.toBeInstanceOf(GoneException);
  });

  it('closes a connection idle for 10 minutes by the runtime clock', async () => {
    const { ws } = await connect(await rt.token('dave'));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    rt.clock.advance(10 * 60 * 1000 + 1);
    rt.connections.checkLimits();
    expect(await closed).toBe(1001);
  });
});

describe('the local HTTP API', () => {
  it('issues tokens and lists its endpoints', async () => {
    const endpoints = (await (await fetch(`${rt.endpoints.http}/_local/endpoints`)).json()) as Record<string, string>;
    expect(Object.keys(endpoints).sort()).toEqual(['connections', 'dynamodb', 'dynamodb_streams', 'events', 'http', 'lambda', 's3', 'sns', 'sqs', 'ws']);
    const bad = await fetch(`${rt.endpoints.http}/_local/token`, { method: 'POST', body: '{"groups":[]}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('answers 401 without a token, with a tampered one, and with an expired one', async () => {
    expect((await fetch(`${rt.endpoints.http}/v1/channels/01J00000000000000000000000`)).status).toBe(401);
    const token = await rt.token('erin');
    const tampered = `${token.slice(0, -4)}AAAA`;
    expect((await fetch(`${rt.endpoints.http}/v1/channels/01J00000000000000000000000`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
    const short = await rt.token('erin', [], { expiresInSeconds: 60 });
    rt.clock.advance(61_000);
    expect((await fetch(`${rt.endpoints.http}/v1/channels/01J00000000000000000000000`, { headers: { authorization: `Bearer ${short}` } })).status).toBe(401);
  });

  it('answers 404 for an unknown route', async () => {
    const res = await fetch(`${rt.endpoints.http}/v1/nothing-here`, { headers: { authorization: `Bearer ${await rt.token('erin')}` } });
    expect(res.status).toBe(404);
  });

  it('routes a channel create and read through the real handlers', async () => {
    const admin = await rt.token('root', ['platform_admin']);
    const created = await fetch(`${rt.endpoints.http}/v1/channels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'announcements' }),
    });
    expect(created.status).toBe(201);
    const { channel } = (await created.json()) as { channel: { id: string } };
    const read = await fetch(`${rt.endpoints.http}/v1/channels/${channel.id}`, { headers: { authorization: `Bearer ${await rt.token('reader')}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { channel: unknown }).channel).toMatchObject({ id: channel.id, name: 'announcements', admin_ids: ['root'], head_seq: 0, head_change_seq: 0 });
  });
});

describe('the runtime observation hooks (used by the bench)', () => {
  it('report each invocation with its event, each DynamoDB request with its duration and each frame written to a socket, until stopped', async () => {
    const invocations: { functionId: string; event: unknown }[] = [];
    const requests: { operation: string; ms: number }[] = [];
    const posts: { frame: string; receivedAt: number; writtenAt: number }[] = [];
    const stops = [
      rt.onInvocation((r) => invocations.push({ functionId: r.functionId, event: r.event })),
      rt.dynamodb.onRequest((q) => requests.push(q)),
      rt.connections.onPost((p) => posts.push(p)),
    ];
    const { ws, next } = await connect(await rt.token('frank'));
    ws.send(JSON.stringify({ action: 'ping' }));
    expect(await next()).toMatchObject({ type: 'pong' });
    const ping = invocations.find((i) => i.functionId === 'WsPing');
    expect((ping?.event as { requestContext: { routeKey: string } }).requestContext.routeKey).toBe('ping');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((q) => q.operation.length > 0 && q.ms >= 0)).toBe(true);

    const connectionId = (ping?.event as { requestContext: { connectionId: string } }).requestContext.connectionId;
    const api = connectionsApi();
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"type":"observed"}') }));
    expect(await next()).toEqual({ type: 'observed' });
    await vi.waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]?.frame).toBe('{"type":"observed"}');
    expect(posts[0]?.writtenAt).toBeGreaterThanOrEqual(posts[0]?.receivedAt as number);

    for (const stop of stops) stop();
    const counts = [invocations.length, requests.length, posts.length];
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: new TextEncoder().encode('{"type":"unobserved"}') }));
    ws.send(JSON.stringify({ action: 'ping' }));
    expect(await next()).toEqual({ type: 'unobserved' });
    expect(await next()).toMatchObject({ type: 'pong' });
    expect([invocations.length, requests.length, posts.length]).toEqual(counts);
    ws.close();
  });
});
