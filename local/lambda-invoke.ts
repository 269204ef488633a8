/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), mounted on the
 * runtime's HTTP port, so an internal service's LambdaClient works with an endpoint
 * override. A thrown error answers as Lambda does: 200 with X-Amz-Function-Error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJson } from './http-util';

export type LocalFunction = (event: unknown) => Promise<unknown>;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
/** Lambda's payload limits: 6 MB for a synchronous call, 1 MB for an asynchronous one. */
const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD = 1024 * 1024;

/** The function name in `name`, `name:qualifier`, `account:function:name[:qualifier]` or a full ARN. */
function functionNameOf(reference: string): string {
  const parts = reference.split(':');
  const at = parts.indexOf('function');
  return (at >= 0 ? parts[at + 1] : parts[0]) ?? '';
}

/** Lambda's error answer: the type in x-amzn-ErrorType, the message in the body. */
function refuse(res: ServerResponse, status: number, type: string, message: string): true {
  sendJson(res, status, { Type: 'User', message }, { 'x-amzn-errortype': type });
  return true;
}

/** The Node.js runtime's report of an error thrown by a handler. */
function errorPayload(error: unknown): { errorType: string; errorMessage: string } {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: error.message };
  return { errorType: typeof error === 'string' ? 'string' : 'Error', errorMessage: String(error) };
}

export function createInvokeHandler(resolve: (name: string) => LocalFunction | undefined) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const match = INVOKE_PATH.exec(new URL(req.url ?? '/', 'http://local').pathname);
    if (!match || req.method !== 'POST') return false;
    let reference: string;
    try {
      reference = decodeURIComponent(match[1] as string);
    } catch {
      return refuse(res, 400, 'InvalidParameterValueException', 'The function name is not correctly URL-encoded.');
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      await readBody(req).catch(() => undefined);
      return refuse(res, 400, 'InvalidParameterValueException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
    }
    const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
    let body: string;
    try {
      body = (await readBody(req, limit)).toString('utf8');
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return refuse(res, 413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
    }
    const name = functionNameOf(reference);
    const fn = resolve(name);
    if (!fn) return refuse(res, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    let event: unknown;
    try {
      event = body ? JSON.parse(body) : {};
    } catch {
      return refuse(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json: Could not parse payload into json');
    }
    if (type === 'DryRun') {
      res.writeHead(204).end();
      return true;
    }
    if (type === 'Event') {
      // Queued and run in the background; as Lambda, the caller never sees the outcome.
      void Promise.resolve()
        .then(() => fn(event))
        .catch(() => undefined);
      res.writeHead(202, { 'content-length': 0 }).end();
      return true;
    }
    try {
      const result = await fn(event);
      sendJson(res, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      sendJson(res, 200, errorPayload(error), { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
    }
    return true;
  };
}
