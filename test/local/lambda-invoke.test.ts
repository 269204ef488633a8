import { InvalidRequestContentException, InvokeCommand, LambdaClient, RequestTooLargeException, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, listen, type Listening } from '../../local/http-util';
import { createInvokeHandler, type LocalFunction } from '../../local/lambda-invoke';

const backgroundEvents: unknown[] = [];
let countedRuns = 0;
let backgroundInvoked: (event: unknown) => void = () => undefined;

const functions: Record<string, LocalFunction> = {
  echo: async (event) => ({ received: event }),
  silent: async () => undefined,
  broken: async () => {
    throw new TypeError('cannot read the thing');
  },
  throwsText: async () => {
    throw 'plain text';
  },
  counted: async () => {
    countedRuns++;
    return 'ran';
  },
  background: async (event) => {
    backgroundEvents.push(event);
    backgroundInvoked(event);
    return 'ignored';
  },
};

let server: Listening;
let lambda: LambdaClient;

beforeAll(async () => {
  const invoke = createInvokeHandler((name) => functions[name]);
  server = await listen(async (req, res) => {
    if (!(await invoke(req, res))) sendJson(res, 404, { message: 'not an invoke route' });
  });
  lambda = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  lambda?.destroy();
  await server?.close();
});

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parsed = (payload: { transformToString(): string } | undefined) => JSON.parse(payload?.transformToString() ?? '') as unknown;

describe('the local Lambda Invoke endpoint', () => {
  it('round-trips a JSON payload through the function', async () => {
    const event = { userId: 'u-1', channels: ['news', 'ünïcode'], nested: { n: 1.5, ok: true, none: null } };
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: json(event) }));
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    expect(result.ExecutedVersion).toBe('$LATEST');
    expect(parsed(result.Payload)).toEqual({ received: event });
  });

  it('resolves a function named by its ARN', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo', Payload: json({ by: 'arn' }) }));
    expect(parsed(result.Payload)).toEqual({ received: { by: 'arn' } });
  });

  it('resolves a function named with an alias, plainly or in an ARN', async () => {
    for (const FunctionName of ['echo:live', 'arn:aws:lambda:us-east-1:000000000000:function:echo:live', '000000000000:function:echo']) {
      const result = await lambda.send(new InvokeCommand({ FunctionName, Payload: json({ by: 'alias' }) }));
      expect(parsed(result.Payload), FunctionName).toEqual({ received: { by: 'alias' } });
    }
  });

  it('answers null for a function that returns nothing', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'silent', Payload: json({}) }));
    expect(result.StatusCode).toBe(200);
    expect(parsed(result.Payload)).toBeNull();
  });

  it('reports a thrown error as an Unhandled function error with its type and message', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'broken', Payload: json({}) }));
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    expect(parsed(result.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'cannot read the thing' });
  });

  it('reports a thrown non-Error value with its text', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'throwsText', Payload: json({}) }));
    expect(result.FunctionError).toBe('Unhandled');
    expect(parsed(result.Payload)).toEqual({ errorType: 'string', errorMessage: 'plain text' });
  });

  it('answers a DryRun with 204 without running the function', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'counted', InvocationType: 'DryRun', Payload: json({}) }));
    expect(result.StatusCode).toBe(204);
    expect(countedRuns).toBe(0);
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'missing', InvocationType: 'DryRun' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('rejects an unknown function with ResourceNotFoundException', async () => {
    const invoking = lambda.send(new InvokeCommand({ FunctionName: 'missing', Payload: json({}) }));
    await expect(invoking).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(invoking).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('rejects a payload larger than 6 MB with RequestTooLargeException', async () => {
    const invoking = lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: json({ big: 'x'.repeat(6 * 1024 * 1024) }) }));
    await expect(invoking).rejects.toBeInstanceOf(RequestTooLargeException);
  });

  it('rejects a payload that is not JSON with InvalidRequestContentException', async () => {
    const invoking = lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('{not json') }));
    await expect(invoking).rejects.toBeInstanceOf(InvalidRequestContentException);
  });

  it('accepts an Event invocation with 202 and runs the function with the event', async () => {
    const invoked = new Promise<unknown>((resolve) => {
      backgroundInvoked = resolve;
    });
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'background', InvocationType: 'Event', Payload: json({ job: 7 }) }));
    expect(result.StatusCode).toBe(202);
    expect(result.FunctionError).toBeUndefined();
    expect(await invoked).toEqual({ job: 7 });
    expect(backgroundEvents).toEqual([{ job: 7 }]);
  });

  it('accepts an Event invocation of a failing function with 202 all the same', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'broken', InvocationType: 'Event', Payload: json({}) }));
    expect(result.StatusCode).toBe(202);
    expect(result.FunctionError).toBeUndefined();
  });
});
