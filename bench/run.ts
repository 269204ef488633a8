/**
 * `npm run bench [-- --quick]`: starts the local runtime in-process (memory mode), runs
 * every scenario, prints a table and writes bench/results/latest.{json,md}.
 * Never part of `npm test`; `npm run bench:check` holds the figures to budgets.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { startRuntime } from '../local/runtime';
import { measureColdStarts } from './cold-start';
import { measureDeliveryFloor } from './delivery-floor';
import { renderMarkdown, type BenchReport } from './report';
import { catchUpAcrossGap, fanoutCost, floorLatency, operationCosts, publishThroughput, publishToDelta, scaleDelivery } from './scenarios';

const quick = process.argv.includes('--quick');
const plan = quick
  ? { sockets: 100, rate: 5, seconds: 5, sustainedRate: 2, sustainedSeconds: 5, throughputSeconds: 3, coldRuns: 3, fanoutSizes: [10, 1000], scale: 2000, realSockets: 100, gapPosts: 2000 }
  : { sockets: 1000, rate: 10, seconds: 20, sustainedRate: 2, sustainedSeconds: 10, throughputSeconds: 10, coldRuns: 10, fanoutSizes: [10, 1000, 10000], scale: 10000, realSockets: 1000, gapPosts: 10000 };

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

log(`plan: ${JSON.stringify(plan)}`);
// One runtime for every scenario: its function environments stay warm between them.
const rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
log('scenario 1: publish -> delta (instant cadence)');
const instant = await publishToDelta(rt, plan.sockets, plan.rate, plan.seconds);
log('scenario 1: publish -> delta (aws cadence)');
rt.setCadence('aws');
const awsLike = await publishToDelta(rt, plan.sockets, plan.rate, plan.seconds);
rt.setCadence('instant');
log('scenario 1: floor');
const floor = await floorLatency(plan.sockets, plan.rate, plan.seconds);
// The same sockets at a rate this machine's fan-out keeps up with: the path's own latency, not a backlog.
log(`scenario 1: publish -> delta and floor at ${plan.sustainedRate} posts/s`);
const sustained = {
  rate: plan.sustainedRate,
  ours: await publishToDelta(rt, plan.sockets, plan.sustainedRate, plan.sustainedSeconds),
  floor: await floorLatency(plan.sockets, plan.sustainedRate, plan.sustainedSeconds),
};
log('scenario 2: throughput');
const throughput = [await publishThroughput(rt, 10, 1, plan.throughputSeconds), await publishThroughput(rt, 10, 100, plan.throughputSeconds)];
log('scenario 3: cost per operation');
const costs = await operationCosts(rt);
const fanout = [];
for (const subscribers of plan.fanoutSizes) fanout.push(await fanoutCost(rt, subscribers));
log('scenario 4: catch-up across a hidden gap');
const gap = await catchUpAcrossGap(rt, plan.gapPosts);
log('scenario 6: scale');
const scale = await scaleDelivery(rt, plan.scale, plan.realSockets);
await rt.stop();
log('scenario 6: delivery floor');
const deliveryFloor = await measureDeliveryFloor();
log('scenario 5: cold start');
const coldStarts = await measureColdStarts(plan.coldRuns);

const report: BenchReport = {
  date: new Date().toISOString(),
  commit: execSync('git rev-parse --short HEAD').toString().trim(),
  node: process.version,
  cpus: cpus().length,
  quick,
  publishToDelta: { instant, aws: awsLike, floor, ratioP99: instant.latencyMs.p99 / floor.latencyMs.p99 },
  sustained: { ...sustained, ratioP99: sustained.ours.latencyMs.p99 / sustained.floor.latencyMs.p99 },
  throughput,
  costs,
  fanout,
  gap,
  coldStarts,
  scale,
  deliveryFloor,
};

const dir = resolve(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
const markdown = renderMarkdown(report);
writeFileSync(resolve(dir, 'latest.md'), markdown);
process.stdout.write(markdown);
