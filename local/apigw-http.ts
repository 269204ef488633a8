/**
 * The HTTP API as API Gateway runs it: routes from the function catalogue, a native
 * JWT authorizer (aws-jwt-verify against the runtime's JWKS), payload v2 events, and
 * the v2 response rules. Also the local-only routes and Lambda's Invoke API.
 */
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { FUNCTIONS } from '../shared/spec/functions';
import type { RuntimeClock } from './clock';
import type { LocalFunctions } from './functions';
import { readBody, sendJson } from './http-util';
import { createInvokeHandler, type LocalFunction } from './lambda-invoke';
import type { TokenIssuer } from './tokens';

interface Route {
  readonly functionId: string;
  readonly method: string;
  readonly routeKey: string;
  readonly pattern: RegExp;
  readonly params: string[];
}

const ROUTES: Route[] = FUNCTIONS.flatMap((f) => {
  if (f.trigger.kind !== 'http') return [];
  const params: string[] = [];
  const source = f.trigger.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return [{ functionId: f.id, method: f.trigger.method, routeKey: `${f.trigger.method} ${f.trigger.path}`, pattern: new RegExp(`^${source}$`), params }];
});

/** Claims as the native authorizer passes them: strings, arrays as "[a b]". */
function claimsAsApiGateway(payload: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

const TokenRequest = z.strictObject({
  sub: z.string().min(1).max(128),
  groups: z.array(z.string().min(1).max(128)).max(20).optional(),
  expires_in_seconds: z.number().int().min(1).max(86_400).optional(),
});

export interface HttpApiDeps {
  readonly functions: LocalFunctions;
  readonly issuer: TokenIssuer;
  readonly clock: RuntimeClock;
  readonly endpoints: () => Record<string, string>;
  readonly events: () => unknown[];
  readonly pushes: () => unknown[];
  readonly invokable: (name: string) => LocalFunction | undefined;
  readonly log: (entry: Record<string, unknown>) => void;
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/;

export function createHttpApi(deps: HttpApiDeps) {
  const verifier = JwtRsaVerifier.create({ issuer: deps.issuer.issuer, audience: deps.issuer.audience, jwksUri: `${deps.issuer.issuer}/.well-known/jwks.json` });
  verifier.cacheJwks(deps.issuer.jwks as unknown as Parameters<typeof verifier.cacheJwks>[0]);
  const invoke = createInvokeHandler(deps.invokable);

  async function authorize(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    if (!token) return undefined;
    try {
      const payload = (await verifier.verify(token)) as Record<string, unknown>;
      if (typeof payload.exp !== 'number' || payload.exp * 1000 <= deps.clock.now()) return undefined;
      return payload;
    } catch {
      return undefined;
    }
  }

  async function localRoute(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (req.method === 'GET' && path === '/_local/.well-known/jwks.json') return (sendJson(res, 200, deps.issuer.jwks), true);
    if (req.method === 'GET' && path === '/_local/endpoints') return (sendJson(res, 200, deps.endpoints()), true);
    if (req.method === 'GET' && path === '/_local/events') return (sendJson(res, 200, { events: deps.events() }), true);
    if (req.method === 'GET' && path === '/_local/push') return (sendJson(res, 200, { pushes: deps.pushes() }), true);
    if (req.method === 'POST' && path === '/_local/token') {
      let parsed;
      try {
        parsed = TokenRequest.safeParse(JSON.parse((await readBody(req)).toString('utf8') || 'null'));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        sendJson(res, 400, { error: { code: 'invalid_request', message: 'Send {sub, groups?, expires_in_seconds?}.' } });
        return true;
      }
      const { sub, groups = [], expires_in_seconds = 3600 } = parsed.data;
      sendJson(res, 200, { token: deps.issuer.sign(sub, groups, expires_in_seconds, deps.clock.now()) });
      return true;
    }
    return false;
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (await localRoute(req, res, path)) return;
    if (await invoke(req, res)) return;
    const route = ROUTES.find((r) => r.method === req.method && r.pattern.test(path));
    if (!route) return sendJson(res, 404, { message: 'Not Found' });
    const claims = await authorize(req);
    if (!claims) return sendJson(res, 401, { message: 'Unauthorized' });
    const match = route.pattern.exec(path) as RegExpExecArray;
    const pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1] as string)]));
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
    const at = deps.clock.now();
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: path,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(route.params.length ? { pathParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: { method: req.method, path, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: '$default',
        time: new Date(at).toUTCString(),
        timeEpoch: at,
        authorizer: { jwt: { claims: claimsAsApiGateway(claims), scopes: null } },
      },
      ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: !isText,
    };
    let status = 500;
    try {
      const result = (await deps.functions.invoke(route.functionId, event)) as unknown;
      if (result && typeof result === 'object' && 'statusCode' in result) {
        const r = result as { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean };
        status = r.statusCode;
        const payload = r.body === undefined ? '' : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body;
        res.writeHead(status, { ...(r.headers ?? {}), 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      } else {
        status = 200;
        sendJson(res, 200, result);
      }
    } catch {
      sendJson(res, 500, { message: 'Internal Server Error' });
    } finally {
      deps.log({ kind: 'http', method: req.method, path, route: route.routeKey, status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  };
}
