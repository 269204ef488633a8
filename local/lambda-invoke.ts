/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), mounted on the
 * runtime's HTTP port, so an internal service's LambdaClient works with an endpoint
 * override. A thrown error answers as Lambda does: 200 with X-Amz-Function-Error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-util';

export type LocalFunction = (event: unknown) => Promise<unknown>;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export function createInvokeHandler(resolve: (name: string) => LocalFunction | undefined) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const match = INVOKE_PATH.exec(new URL(req.url ?? '/', 'http://local').pathname);
    if (!match || req.method !== 'POST') return false;
    // A name, `name:alias`, or an ARN `arn:…:function:name[:alias]`: the function's name either way.
    const ref = decodeURIComponent(match[1] as string);
    const name = (ref.startsWith('arn:') ? ref.split(':')[6] : ref.split(':')[0]) ?? '';
    const body = (await readBody(req)).toString('utf8');
    const fn = resolve(name);
    if (!fn) {
      sendJson(res, 404, { Type: 'User', message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      return true;
    }
    let event: unknown;
    try {
      event = body ? JSON.parse(body) : {};
    } catch {
      sendJson(res, 400, { Type: 'User', message: 'Could not parse request body into json' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
      return true;
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (type === 'DryRun') {
      res.writeHead(204).end();
      return true;
    }
    if (type === 'Event') {
      void fn(event).catch(() => undefined);
      res.writeHead(202).end();
      return true;
    }
    try {
      const result = await fn(event);
      sendJson(res, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      const e = error as Error;
      sendJson(res, 200, { errorType: e.name ?? 'Error', errorMessage: e.message ?? String(error) }, {
        'x-amz-function-error': 'Unhandled',
        'x-amz-executed-version': '$LATEST',
      });
    }
    return true;
  };
}
