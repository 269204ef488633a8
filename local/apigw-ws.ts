/**
 * The WebSocket API as API Gateway runs it: the real $connect authorizer at upgrade,
 * $connect / route / $disconnect events with API Gateway's request context, route
 * selection on `$request.body.action`, route responses sent back as frames, idle
 * (10 min) and maximum (2 h) connection limits by the runtime clock — and the
 * @connections management API the handlers post through.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { FUNCTIONS } from '../shared/spec/functions';
import { wallMs, type RuntimeClock } from './clock';
import type { LocalFunctions } from './functions';
import { readBody, sendJson } from './http-util';

export const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
export const MAX_CONNECTION_MS = 2 * 3600 * 1000;
/** @connections posts: API Gateway's message payload quota. */
const MAX_MESSAGE_BYTES = 128 * 1024;
/**
 * Client frames: API Gateway closes a connection that sends a frame over 32 KB with 1009.
 * Browsers and `ws` send each message as one frame, so that is the limit their messages
 * meet. (`ws` counts a whole message, so one fragmented into small frames is held to 32 KB
 * here though API Gateway takes it up to 128 KB: stricter locally, never looser.)
 */
const MAX_FRAME_BYTES = 32 * 1024;
const STAGE = 'local';

const ROUTE_FUNCTIONS = new Map(FUNCTIONS.flatMap((f) => (f.trigger.kind === 'ws' ? [[f.trigger.routeKey, f.id] as const] : [])));
const AUTHORIZER = FUNCTIONS.find((f) => f.trigger.kind === 'ws-authorizer')?.id;

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly authorizer: Record<string, unknown>;
}

export interface WebSocketApiDeps {
  readonly functions: LocalFunctions;
  readonly clock: RuntimeClock;
  readonly log: (entry: Record<string, unknown>) => void;
}

/** A frame posted through @connections to a live socket, with wall-clock times (ms, comparable across processes). */
export interface TimedPost {
  readonly frame: string;
  /** When the @connections endpoint received the post. */
  readonly receivedAt: number;
  /** When the socket had written the frame. */
  readonly writtenAt: number;
}

/** API Gateway's connection ids look like base64 of 12 bytes ending in '='. */
const newConnectionId = () => `${randomBytes(12).toString('base64').replace(/[+/]/g, 'A').slice(0, 15)}=`;

export class WebSocketApi {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly connections = new Map<string, Connection>();
  private readonly virtual = new Set<string>();
  private failures = 0;
  private postedCount = 0;
  /** Observers of each post to a live socket (the bench's @connections and socket-write stages); none by default. */
  readonly postListeners = new Set<(post: TimedPost) => void>();
  private readonly limitsTimer: NodeJS.Timeout;
  domainName = 'localhost';

  constructor(private readonly deps: WebSocketApiDeps) {
    this.limitsTimer = setInterval(() => this.enforceLimits(), 1000);
    this.limitsTimer.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(req, socket, head).catch(() => socket.destroy());
    });
  }

  count(): number {
    return this.connections.size;
  }

  posted(): number {
    return this.postedCount;
  }

  failNext(n: number): void {
    this.failures += n;
  }

  addVirtual(ids: readonly string[]): void {
    for (const id of ids) this.virtual.add(id);
  }

  private context(connectionId: string, routeKey: string, eventType: string, extra: Record<string, unknown> = {}) {
    const at = this.deps.clock.now();
    const connection = this.connections.get(connectionId);
    return {
      routeKey,
      eventType,
      extendedRequestId: randomUUID(),
      requestTime: new Date(at).toUTCString(),
      messageDirection: 'IN',
      stage: STAGE,
      connectedAt: connection?.connectedAt ?? at,
      requestTimeEpoch: at,
      identity: { sourceIp: connection?.sourceIp ?? '127.0.0.1', userAgent: connection?.userAgent ?? '' },
      requestId: randomUUID(),
      domainName: this.domainName,
      connectionId,
      apiId: 'local',
      ...(connection ? { authorizer: connection.authorizer } : {}),
      ...extra,
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const query = Object.fromEntries(url.searchParams);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    const connectionId = newConnectionId();
    const refuse = (status: number, text: string) => {
      this.deps.log({ kind: 'ws', event: '$connect', status });
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    const base = this.context(connectionId, '$connect', 'CONNECT', {
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
    });
    let authorizer: Record<string, unknown> = {};
    if (AUTHORIZER) {
      try {
        const policy = (await this.deps.functions.invoke(AUTHORIZER, {
          type: 'REQUEST',
          methodArn: `arn:aws:execute-api:us-east-1:000000000000:local/${STAGE}/$connect`,
          headers,
          queryStringParameters: query,
          stageVariables: {},
          requestContext: base,
        })) as { principalId?: string; policyDocument?: { Statement?: { Effect?: string }[] }; context?: Record<string, unknown> };
        if (!policy.policyDocument?.Statement?.every((s) => s.Effect === 'Allow')) return refuse(403, 'Forbidden');
        authorizer = { ...(policy.context ?? {}), principalId: policy.principalId };
      } catch {
        return refuse(401, 'Unauthorized');
      }
    }
    const connectFunction = ROUTE_FUNCTIONS.get('$connect');
    if (connectFunction) {
      try {
        const result = (await this.deps.functions.invoke(connectFunction, {
          headers,
          queryStringParameters: query,
          requestContext: { ...base, authorizer },
          isBase64Encoded: false,
        })) as { statusCode?: number } | undefined;
        if ((result?.statusCode ?? 200) >= 300) return refuse(result?.statusCode ?? 500, 'Refused');
      } catch {
        return refuse(500, 'Internal Server Error');
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const at = this.deps.clock.now();
      const connection: Connection = {
        id: connectionId,
        socket: ws,
        connectedAt: at,
        lastActiveAt: at,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
        authorizer,
      };
      this.connections.set(connectionId, connection);
      this.deps.log({ kind: 'ws', event: '$connect', connection_id: connectionId, status: 101 });
      ws.on('message', (data, isBinary) => void this.message(connection, data as Buffer, isBinary));
      ws.on('close', (code, reason) => void this.disconnected(connection, code, reason.toString()));
      ws.on('error', () => ws.terminate());
    });
  }

  private async message(connection: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    connection.lastActiveAt = this.deps.clock.now();
    const body = data.toString(isBinary ? 'base64' : 'utf8');
    let routeKey = '$default';
    try {
      const action = (JSON.parse(body) as { action?: unknown }).action;
      if (typeof action === 'string' && ROUTE_FUNCTIONS.has(action) && !action.startsWith('$')) routeKey = action;
    } catch {
      routeKey = '$default';
    }
    const functionId = ROUTE_FUNCTIONS.get(routeKey);
    if (!functionId) return;
    const started = performance.now();
    let status = 200;
    try {
      const result = (await this.deps.functions.invoke(functionId, {
        requestContext: this.context(connection.id, routeKey, 'MESSAGE', { messageId: randomUUID() }),
        body,
        isBase64Encoded: isBinary,
      })) as { statusCode?: number; body?: string } | undefined;
      status = result?.statusCode ?? 200;
      // Routes are integrated with returnResponse: the body goes back as a frame.
      if (result?.body !== undefined && connection.socket.readyState === connection.socket.OPEN) connection.socket.send(result.body);
    } catch {
      status = 500;
      if (connection.socket.readyState === connection.socket.OPEN) {
        connection.socket.send(JSON.stringify({ message: 'Internal server error', connectionId: connection.id, requestId: randomUUID() }));
      }
    } finally {
      this.deps.log({ kind: 'ws', event: routeKey, connection_id: connection.id, status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  }

  private async disconnected(connection: Connection, code: number, reason: string): Promise<void> {
    if (!this.connections.delete(connection.id)) return;
    const fn = ROUTE_FUNCTIONS.get('$disconnect');
    if (!fn) return;
    let failed = false;
    try {
      await this.deps.functions.invoke(fn, {
        requestContext: { ...this.context(connection.id, '$disconnect', 'DISCONNECT'), authorizer: connection.authorizer, disconnectStatusCode: code, disconnectReason: reason },
        isBase64Encoded: false,
      });
    } catch {
      // As on AWS, a failed $disconnect changes nothing for the client; the record's TTL cleans up.
      failed = true;
    } finally {
      this.deps.log({ kind: 'ws', event: '$disconnect', connection_id: connection.id, code, failed });
    }
  }

  private enforceLimits(): void {
    const at = this.deps.clock.now();
    for (const c of this.connections.values()) {
      if (at - c.lastActiveAt >= IDLE_TIMEOUT_MS || at - c.connectedAt >= MAX_CONNECTION_MS) c.socket.close(1001, 'Going away');
    }
  }

  /** Checks the limits now (tests advance the clock, then call this instead of waiting a second). */
  checkLimits(): void {
    this.enforceLimits();
  }

  /** The @connections management API: POST (send), GET (describe), DELETE (close). */
  async handleManagement(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^(?:\/[^@][^/]*)?\/@connections\/([^/]+)$/.exec(new URL(req.url ?? '/', 'http://local').pathname);
    if (!match) return sendJson(res, 404, { message: 'Not Found' });
    const id = decodeURIComponent(match[1] as string);
    const body = await readBody(req);
    const error = (status: number, type: string, message: string) => sendJson(res, status, { message }, { 'x-amzn-errortype': type });
    if (req.method === 'POST' && this.failures > 0) {
      this.failures--;
      return error(500, 'InternalServerErrorException', 'Injected failure');
    }
    const connection = this.connections.get(id);
    if (req.method === 'POST') {
      if (body.length > MAX_MESSAGE_BYTES) return error(413, 'PayloadTooLargeException', 'Message too long');
      if (this.virtual.has(id)) {
        this.postedCount++;
        return void res.writeHead(200).end();
      }
      if (!connection || connection.socket.readyState !== connection.socket.OPEN) return error(410, 'GoneException', `Connection ${id} is gone`);
      connection.lastActiveAt = this.deps.clock.now();
      const frame = body.toString('utf8');
      if (this.postListeners.size === 0) connection.socket.send(frame);
      else {
        const receivedAt = wallMs();
        connection.socket.send(frame, () => {
          const post = { frame, receivedAt, writtenAt: wallMs() };
          for (const listener of this.postListeners) listener(post);
        });
      }
      this.postedCount++;
      return void res.writeHead(200).end();
    }
    if (!connection) return error(410, 'GoneException', `Connection ${id} is gone`);
    if (req.method === 'GET') {
      return sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      });
    }
    if (req.method === 'DELETE') {
      connection.socket.close(1000, 'Closed by the server');
      return void res.writeHead(204).end();
    }
    return error(405, 'ForbiddenException', 'Method not allowed');
  }

  async close(): Promise<void> {
    clearInterval(this.limitsTimer);
    const open = [...this.connections.values()];
    for (const c of open) c.socket.terminate();
    await Promise.all(open.map((c) => this.disconnected(c, 1001, 'Going away').catch(() => undefined)));
    this.wss.close();
  }
}
