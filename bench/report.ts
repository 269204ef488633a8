/** The bench report: one JSON shape, rendered as Markdown for people. */
import type { ColdStartResult } from './cold-start';
import type { DeliveryFloorResult } from './delivery-floor';
import type { FanoutCost, GapCatchUpResult, LatencyResult, OperationCost, ScaleResult, ThroughputResult } from './scenarios';

export interface BenchReport {
  readonly date: string;
  readonly commit: string;
  readonly node: string;
  readonly cpus: number;
  readonly quick: boolean;
  readonly publishToDelta: { instant: LatencyResult; aws: LatencyResult; floor: LatencyResult; ratioP99: number };
  /** Scenario 1 again at a rate the local fan-out keeps up with (instant cadence). */
  readonly sustained?: { rate: number; ours: LatencyResult; floor: LatencyResult; ratioP99: number };
  readonly throughput: ThroughputResult[];
  readonly costs: OperationCost[];
  readonly fanout: FanoutCost[];
  readonly gap: GapCatchUpResult;
  readonly coldStarts: ColdStartResult[];
  readonly scale: ScaleResult;
  /** Beside scale: CPU per delivery at its barest, for comparison with the runtime's. */
  readonly deliveryFloor: DeliveryFloorResult;
}

/** Deliveries per second `cpus` CPUs carry at `micros` of CPU each. */
export function deliveriesPerSecond(cpus: number, micros: number): number {
  return (cpus * 1e6) / micros;
}

/** Deliveries per second scenario 1 asks for: every connected socket gets every post. */
export function scenarioOneDemand(r: BenchReport): number {
  return r.publishToDelta.instant.connected * r.publishToDelta.instant.rate;
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function table(headers: string[], rows: (string | number)[][]): string {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const latencyRow = (name: string, l: LatencyResult) => [
    name,
    l.connected,
    l.posts,
    l.failedPosts,
    l.delivered,
    l.missing,
    l.duplicates,
    f(l.latencyMs.p50),
    f(l.latencyMs.p95),
    f(l.latencyMs.p99),
    f(l.latencyMs.max),
  ];
  return `# Bench ${r.quick ? '(quick)' : '(full)'} — ${r.date}

commit ${r.commit} · Node ${r.node} · ${r.cpus} CPUs

## 1. Publish → delta
${table(
  ['path', 'sockets', 'posts', 'failed posts', 'delivered', 'missing', 'dupes', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
  [latencyRow('ours, instant', r.publishToDelta.instant), latencyRow('ours, AWS-like', r.publishToDelta.aws), latencyRow('floor', r.publishToDelta.floor)],
)}

p99 ratio (ours instant / floor): ${f(r.publishToDelta.ratioP99, 2)}
${
  r.sustained
    ? `
At ${r.sustained.rate} posts/s, a rate this machine's fan-out keeps up with:
${table(
  ['path', 'sockets', 'posts', 'failed posts', 'delivered', 'missing', 'dupes', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
  [latencyRow('ours, instant', r.sustained.ours), latencyRow('floor', r.sustained.floor)],
)}

p99 ratio (ours instant / floor): ${f(r.sustained.ratioP99, 2)}
`
    : ''
}
Where the time goes (instant cadence). Along the path, ms since the publish request started
(stream wait = router started − publish answered; queue wait = fan-out started − router
started; fan-out handler and @connections post = post received − fan-out started):
${table(
  ['reached', 'samples', 'p50', 'p95', 'p99', 'max'],
  Object.entries(r.publishToDelta.instant.milestonesMs ?? {}).map(([stage, d]) => [stage, d.count, f(d.p50), f(d.p95), f(d.p99), f(d.max)]),
)}

Time per handler invocation and per DynamoDB transaction, ms:
${table(
  ['stage', 'samples', 'p50', 'p95', 'p99', 'max'],
  Object.entries(r.publishToDelta.instant.stagesMs ?? {}).map(([stage, d]) => [stage, d.count, f(d.p50), f(d.p95), f(d.p99), f(d.max)]),
)}

## 2. Publish throughput
${table(
  ['publishers', 'channels', 'seconds', 'posts', 'posts/s', 'failed'],
  r.throughput.map((t) => [t.publishers, t.channels, t.seconds, t.posts, f(t.postsPerSecond), t.rateLimited]),
)}

## 3. Cost per operation (DynamoDB, counted in the local front)
${table(
  ['operation', 'requests', 'by operation', 'RCU', 'WCU'],
  r.costs.map((c) => [c.operation, c.totalRequests, Object.entries(c.requests).map(([k, v]) => `${k} ${v}`).join(', '), f(c.readCapacityUnits), f(c.writeCapacityUnits)]),
)}

${table(
  ['subscribers', 'SQS messages', 'fan-out invocations', 'stream-router invocations', '@connections posts'],
  r.fanout.map((x) => [x.subscribers, x.sqsMessages, x.fanoutInvocations, x.streamRouterInvocations, x.connectionPosts]),
)}

## 4. Catch-up across a hidden gap (${r.gap.posts} posts, ${r.gap.readablePosts} readable)
${table(
  ['reader', 'pages', 'empty pages', 'Queries per page (max)', 'Queries per page (mean)'],
  [
    ['middle 40 % hidden', r.gap.withGap.pages, r.gap.withGap.emptyPages, r.gap.withGap.maxQueriesPerPage, f(r.gap.withGap.meanQueriesPerPage, 2)],
    ['no gap', r.gap.withoutGap.pages, r.gap.withoutGap.emptyPages, r.gap.withoutGap.maxQueriesPerPage, f(r.gap.withoutGap.meanQueriesPerPage, 2)],
  ],
)}

## 5. Cold start (bundled as deployed)
${table(
  ['function', 'bundle KB', 'of it AWS SDK KB', 'of it ours KB', 'import ms (median)'],
  r.coldStarts.map((c) => [c.function, f(c.bundleBytes / 1024), f(c.sdkBytes / 1024), f(c.ownBytes / 1024), f(c.importMsMedian)]),
)}

## 6. Scale
${r.scale.subscriptions} subscriptions (${r.scale.realSockets} real sockets): ${r.scale.delivered} delivered, last after ${f(r.scale.msToLastDelivery)} ms.

CPU per delivery, both ends counted (each measured over ${r.deliveryFloor.posts} posts):
${table(
  ['delivery', 'CPU µs', `at most, deliveries/s on ${r.cpus} CPUs`],
  [
    ['bare HTTP POST to a bare server (no signing, no SDK)', f(r.deliveryFloor.bareMicros, 0), f(deliveriesPerSecond(r.cpus, r.deliveryFloor.bareMicros), 0)],
    ['Fanout bundle as deployed, one environment, to the same server (SDK PostToConnection, signed)', f(r.deliveryFloor.fanoutMicros, 0), f(deliveriesPerSecond(r.cpus, r.deliveryFloor.fanoutMicros), 0)],
    ['the whole local path above (runtime: endpoints, stream router, fan-out, @connections)', f(r.scale.cpuMicrosPerDelivery, 0), f(deliveriesPerSecond(r.cpus, r.scale.cpuMicrosPerDelivery), 0)],
  ],
)}

Scenario 1 asks for ${f(scenarioOneDemand(r), 0)} deliveries/s (${r.publishToDelta.instant.connected} sockets × ${r.publishToDelta.instant.rate} posts/s), with the client harness on the same CPUs.
`;
}
