import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { connectionsApi } from '../../shared/clients/connections';
import type { FanoutMessage } from '../../shared/delivery/fanout-queue';

const store = vi.hoisted(() => ({ removeConnection: vi.fn(async (_id: string) => undefined) }));
vi.mock('../../shared/connections/store', () => ({ removeConnection: store.removeConnection }));

const { handler } = await import('../../lambdas/fanout');
const { postMessage, POST_CONCURRENCY } = await import('../../shared/delivery/post');

const api = mockClient(connectionsApi);
const context = { functionName: 'fanout', awsRequestId: 'req' } as Context;

const frame = { type: 'delta', stream: 'channel:01JCHANNE10000000000000000', seq: 1, id: '01JP0ST0000000000000000000', op: 'created', rev: 1, change_seq: 1 } as const;

function record(messageId: string, message: FanoutMessage | string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof message === 'string' ? message : JSON.stringify(message),
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test-fanout',
    awsRegion: 'us-east-1',
  };
}

const posted = () => api.commandCalls(PostToConnectionCommand).map((c) => [c.args[0].input.ConnectionId, JSON.parse(Buffer.from(c.args[0].input.Data as Uint8Array).toString())]);

beforeEach(() => {
  api.reset();
  store.removeConnection.mockClear();
});

describe('fan-out', () => {
  it('posts each frame to each of its connections', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const event: SQSEvent = {
      Records: [record('m1', { deliveries: [{ frame, connection_ids: ['c1', 'c2'] }, { frame: { ...frame, seq: 2, change_seq: 2 }, connection_ids: ['c1'] }] })],
    };
    const result = await handler(event, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(posted()).toEqual([
      ['c1', frame],
      ['c2', frame],
      ['c1', { ...frame, seq: 2, change_seq: 2 }],
    ]);
  });

  it('removes exactly the connections that are gone and does not retry them', async () => {
    api.on(PostToConnectionCommand).resolves({});
    api.on(PostToConnectionCommand, { ConnectionId: 'stale' }).rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));
    const result = await handler({ Records: [record('m1', { deliveries: [{ frame, connection_ids: ['live', 'stale'] }] })] }, context);
    expect(result.batchItemFailures).toEqual([]);
    expect(store.removeConnection).toHaveBeenCalledTimes(1);
    expect(store.removeConnection).toHaveBeenCalledWith('stale');
  });

  it('reports only the message whose posts failed otherwise, for redelivery', async () => {
    api.on(PostToConnectionCommand).resolves({});
    api.on(PostToConnectionCommand, { ConnectionId: 'flaky' }).rejects(new Error('socket hang up'));
    const result = await handler(
      {
        Records: [
          record('ok', { deliveries: [{ frame, connection_ids: ['a', 'b'] }] }),
          record('bad', { deliveries: [{ frame, connection_ids: ['c', 'flaky'] }] }),
        ],
      },
      context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    // The rest of the failed message was still attempted.
    expect(posted().map(([c]) => c)).toEqual(expect.arrayContaining(['a', 'b', 'c']));
  });

  it('fails a malformed message alone', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const result = await handler(
      { Records: [record('junk', '{"deliveries": 3}'), record('ok', { deliveries: [{ frame, connection_ids: ['a'] }] })] },
      context,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'junk' }]);
    expect(posted()).toHaveLength(1);
  });

  it(`keeps at most ${POST_CONCURRENCY} posts in flight`, async () => {
    let inFlight = 0;
    let peak = 0;
    api.on(PostToConnectionCommand).callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      return {};
    });
    const outcome = await postMessage({ deliveries: [{ frame, connection_ids: Array.from({ length: 200 }, (_, i) => `c${i}`) }] });
    expect(outcome.sent).toBe(200);
    expect(peak).toBe(POST_CONCURRENCY);
  });
});
