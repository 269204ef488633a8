import { describe, expect, it } from 'vitest';
import { budgetMisses } from '../../bench/check';
import { bundleComposition } from '../../bench/cold-start';
import { renderMarkdown, type BenchReport } from '../../bench/report';

const dist = (p99: number) => ({ count: 10, p50: p99 / 2, p95: p99, p99, max: p99 });
const latency = (p99: number, missing = 0) => ({ failedPosts: 0, sockets: 10, connected: 10, rate: 5, posts: 5, expectedDeliveries: 50, delivered: 50 - missing, missing, duplicates: 0, latencyMs: dist(p99) });

function report(overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    date: '2026-11-25T00:00:00.000Z',
    commit: 'abc',
    node: 'v20',
    cpus: 2,
    quick: true,
    publishToDelta: { instant: latency(20), aws: latency(300), floor: latency(15), ratioP99: 20 / 15 },
    throughput: [],
    costs: [
      { operation: 'publish', requests: { GetItem: 1, TransactWriteItems: 1 }, totalRequests: 2, readCapacityUnits: 1, writeCapacityUnits: 8 },
      { operation: 'page of 20', requests: { GetItem: 1, Query: 1 }, totalRequests: 2, readCapacityUnits: 2, writeCapacityUnits: 0 },
    ],
    fanout: [
      { subscribers: 10, sqsMessages: 1, fanoutInvocations: 1, streamRouterInvocations: 1, connectionPosts: 10 },
      { subscribers: 1000, sqsMessages: 2, fanoutInvocations: 1, streamRouterInvocations: 1, connectionPosts: 1000 },
    ],
    gap: { posts: 100, readablePosts: 60, withGap: { pages: 2, emptyPages: 0, maxQueriesPerPage: 1, meanQueriesPerPage: 1 }, withoutGap: { pages: 1, emptyPages: 0, maxQueriesPerPage: 1, meanQueriesPerPage: 1 } },
    coldStarts: [{ function: 'PostsPublish', bundleBytes: 100 * 1024, sdkBytes: 60 * 1024, ownBytes: 10 * 1024, importMsMedian: 50 }],
    scale: { subscriptions: 1000, realSockets: 100, delivered: 1000, msToLastDelivery: 900, cpuMicrosPerDelivery: 400 },
    deliveryFloor: { posts: 1000, bareMicros: 200, fanoutMicros: 500 },
    ...overrides,
  };
}

describe('bench budgets', () => {
  it('passes a report within every budget', () => {
    expect(budgetMisses(report())).toEqual([]);
  });

  it('names a p99 more than twice the floor and a missing delta', () => {
    const misses = budgetMisses(report({ publishToDelta: { instant: latency(50, 1), aws: latency(300), floor: latency(15), ratioP99: 50 / 15 } }));
    expect(misses.some((m) => m.includes('missing'))).toBe(true);
    expect(misses.some((m) => m.includes('the floor'))).toBe(true);
  });

  it('names a publish that reads twice and a page that queries twice', () => {
    const misses = budgetMisses(
      report({
        costs: [
          { operation: 'publish', requests: { GetItem: 2, TransactWriteItems: 1 }, totalRequests: 3, readCapacityUnits: 2, writeCapacityUnits: 8 },
          { operation: 'page of 20', requests: { Query: 2 }, totalRequests: 2, readCapacityUnits: 2, writeCapacityUnits: 0 },
        ],
      }),
    );
    expect(misses).toEqual(['publish: 2 reads (budget 1)', 'page of 20: 2 Queries (budget 1)']);
  });

  it('names a bundle over 250 KB, a slow import and a slow scale delivery', () => {
    const misses = budgetMisses(
      report({ coldStarts: [{ function: 'Fat', bundleBytes: 300 * 1024, sdkBytes: 200 * 1024, ownBytes: 40 * 1024, importMsMedian: 150 }], scale: { subscriptions: 1000, realSockets: 10, delivered: 1000, msToLastDelivery: 2500, cpuMicrosPerDelivery: 400 } }),
    );
    expect(misses).toEqual([
      'Fat: bundle 300 KB (budget 250; the AWS SDK is 200 KB of it, our code 40 KB)',
      'Fat: import 150 ms (budget 100)',
      // 1,000 posts at 500 µs each on 2 CPUs.
      'scale: last delivery after 2500 ms (budget 2000); the Fanout handler alone needs 250 ms of 2 CPUs for it',
    ]);
  });

  it('says when scenario 1 asks for more deliveries per second than a bare HTTP POST allows here', () => {
    const slow = { instant: latency(50), aws: latency(300), floor: latency(15), ratioP99: 50 / 15 };
    // 10 sockets × 5 posts/s = 50 deliveries/s.
    expect(budgetMisses(report({ publishToDelta: slow, deliveryFloor: { posts: 1000, bareMicros: 39_000, fanoutMicros: 80_000 } }))).toEqual([
      'publish→delta p99 50.0 ms is 3.33× the floor\'s 15.0 ms (budget 2×)',
    ]);
    expect(budgetMisses(report({ publishToDelta: slow, deliveryFloor: { posts: 1000, bareMicros: 41_000, fanoutMicros: 80_000 } }))).toEqual([
      'publish→delta p99 50.0 ms is 3.33× the floor\'s 15.0 ms (budget 2×); it asks 50 deliveries/s, more than the 49/s a bare HTTP POST allows on 2 CPUs',
    ]);
  });
});

describe('bench report', () => {
  it('sets each delivery cost beside the deliveries per second it allows on the machine', () => {
    const markdown = renderMarkdown(report());
    expect(markdown).toContain('| bare HTTP POST to a bare server (no signing, no SDK) | 200 | 10000 |');
    expect(markdown).toContain('| Fanout bundle as deployed, one environment, to the same server (SDK PostToConnection, signed) | 500 | 4000 |');
    expect(markdown).toContain('| the whole local path above (runtime: endpoints, stream router, fan-out, @connections) | 400 | 5000 |');
    expect(markdown).toContain('Scenario 1 asks for 50 deliveries/s (10 sockets × 5 posts/s)');
  });
});

describe('bundle composition', () => {
  it('splits each bundle into the AWS SDK, our code and other packages', () => {
    const composition = bundleComposition({
      inputs: {},
      outputs: {
        '../tmp/b/WsConnect.mjs': {
          bytes: 1000,
          imports: [],
          exports: ['handler'],
          inputs: {
            'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js': { bytesInOutput: 300 },
            'node_modules/@smithy/core/dist-es/index.js': { bytesInOutput: 200 },
            'node_modules/@aws-crypto/util/build/main/index.js': { bytesInOutput: 20 },
            'node_modules/@aws/lambda-invoke-store/dist-es/index.js': { bytesInOutput: 10 },
            'node_modules/zod/lib/index.mjs': { bytesInOutput: 150 },
            'lambdas/ws/connect.ts': { bytesInOutput: 40 },
            'shared/config.ts': { bytesInOutput: 30 },
          },
        },
        '../tmp/b/WsConnect.mjs.map': { bytes: 500, imports: [], exports: [], inputs: {} },
      },
    });
    expect([...composition]).toEqual([['WsConnect', { sdkBytes: 530, ownBytes: 70 }]]);
  });
});
