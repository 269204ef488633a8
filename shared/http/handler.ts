/**
 * The one wrapper every HTTP API handler uses: authenticate from the JWT authorizer's
 * claims, bound and parse the body, validate body / query / path with zod, call the
 * domain, and map any error to API.md's error shape.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { z } from 'zod';
import { principalFromClaims, type Principal } from '../auth/principal';
import { InvalidRequestError, PayloadTooLargeError, UnauthenticatedError, toErrorResponse } from '../errors';
import { logger } from '../logger';
import { parseWith } from '../validation';

export const MAX_BODY_BYTES = 256 * 1024;

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResponse = APIGatewayProxyStructuredResultV2;

export interface HttpRequest<B, Q, P> {
  readonly principal: Principal;
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export interface HttpResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export interface RouteSchemas<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode: status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function readBody(event: HttpEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The request body exceeds ${MAX_BODY_BYTES} bytes.`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new InvalidRequestError('The request body is not valid JSON.', { cause });
  }
}

function lowerCaseHeaders(headers: HttpEvent['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/** Maps every thrown error to API.md's shape; logs 5xx with their cause, never returns a stack. */
const apiErrors = (): middy.MiddlewareObj<HttpEvent, HttpResponse> => ({
  onError: async (request) => {
    const mapped = toErrorResponse(request.error);
    if (mapped.status >= 500) logger.error('request failed', { error: request.error as Error });
    request.response = json(mapped.status, mapped.body, mapped.headers);
  },
});

export function httpRoute<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodType<Record<string, string | undefined>>,
  P extends z.ZodType = z.ZodType<Record<string, string | undefined>>,
>(
  schemas: RouteSchemas<B, Q, P>,
  run: (request: HttpRequest<z.infer<B>, z.infer<Q>, z.infer<P>>, context: Context) => Promise<HttpResult>,
) {
  return middy<HttpEvent, HttpResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(apiErrors())
    .handler(async (event, context) => {
      const principal = principalFromClaims(event.requestContext?.authorizer?.jwt?.claims);
      if (!principal) throw new UnauthenticatedError();
      const rawBody = readBody(event);
      const body = schemas.body ? parseWith(schemas.body, rawBody, 'body') : (undefined as z.infer<B>);
      if (!schemas.body && rawBody !== undefined) throw new InvalidRequestError('This route takes no request body.');
      const query = (schemas.query ? parseWith(schemas.query, event.queryStringParameters ?? {}, 'query') : {}) as z.infer<Q>;
      const params = (schemas.params ? parseWith(schemas.params, event.pathParameters ?? {}, 'path') : {}) as z.infer<P>;
      const result = await run({ principal, body, query, params, headers: lowerCaseHeaders(event.headers) }, context);
      return json(result.status, result.body, result.headers);
    });
}
