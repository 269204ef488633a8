/**
 * `npm run bench:check`: holds bench/results/latest.json to the budgets; exits non-zero
 * on any miss, naming each. Run `npm run bench` first.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deliveriesPerSecond, scenarioOneDemand, type BenchReport } from './report';

export const BUDGETS = {
  p99RatioToFloor: 2,
  publishTransactions: 1,
  publishReads: 1,
  pageQueries: 1,
  bundleKb: 250,
  importMs: 100,
  scaleMs: 2000,
} as const;

const READ_OPS = ['GetItem', 'Query', 'BatchGetItem', 'TransactGetItems', 'Scan'];

/** When scenario 1 asks for more deliveries per second than this machine's bare HTTP transport carries, says so. */
function overCapacity(r: BenchReport): string {
  const capacity = deliveriesPerSecond(r.cpus, r.deliveryFloor.bareMicros);
  const demand = scenarioOneDemand(r);
  return demand > capacity ? `; it asks ${demand.toFixed(0)} deliveries/s, more than the ${capacity.toFixed(0)}/s a bare HTTP POST allows on ${r.cpus} CPUs` : '';
}

/** The least time the scale delivery can take here at the Fanout handler's own CPU per post. */
function fanoutFloorMs(r: BenchReport): string {
  const ms = (r.scale.subscriptions / deliveriesPerSecond(r.cpus, r.deliveryFloor.fanoutMicros)) * 1000;
  return `; the Fanout handler alone needs ${ms.toFixed(0)} ms of ${r.cpus} CPUs for it`;
}

export function budgetMisses(r: BenchReport): string[] {
  const misses: string[] = [];
  const { instant, floor, ratioP99 } = r.publishToDelta;
  if (instant.missing > 0) misses.push(`publish→delta: ${instant.missing} deltas missing`);
  if (instant.failedPosts > 0) misses.push(`publish→delta: ${instant.failedPosts} publishes failed`);
  if (!(ratioP99 <= BUDGETS.p99RatioToFloor)) {
    misses.push(`publish→delta p99 ${instant.latencyMs.p99.toFixed(1)} ms is ${ratioP99.toFixed(2)}× the floor's ${floor.latencyMs.p99.toFixed(1)} ms (budget ${BUDGETS.p99RatioToFloor}×)${overCapacity(r)}`);
  }
  const cost = (name: string) => r.costs.find((c) => c.operation === name);
  const publish = cost('publish');
  if (!publish) misses.push('no publish cost measured');
  else {
    const tx = publish.requests.TransactWriteItems ?? 0;
    const reads = READ_OPS.reduce((n, op) => n + (publish.requests[op] ?? 0), 0);
    if (tx > BUDGETS.publishTransactions) misses.push(`publish: ${tx} transactions (budget ${BUDGETS.publishTransactions})`);
    if (reads > BUDGETS.publishReads) misses.push(`publish: ${reads} reads (budget ${BUDGETS.publishReads})`);
  }
  const page = cost('page of 20');
  if (!page) misses.push('no page cost measured');
  else if ((page.requests.Query ?? 0) > BUDGETS.pageQueries) misses.push(`page of 20: ${page.requests.Query} Queries (budget ${BUDGETS.pageQueries})`);
  for (const f of r.fanout) {
    if (f.connectionPosts !== f.subscribers) misses.push(`fan-out to ${f.subscribers}: ${f.connectionPosts} posts (one per subscriber expected)`);
  }
  const small = r.fanout[0];
  const large = r.fanout[r.fanout.length - 1];
  if (small && large && large.subscribers > small.subscribers && large.sqsMessages > Math.ceil((large.subscribers / small.subscribers) * Math.max(1, small.sqsMessages))) {
    misses.push(`fan-out messages grow faster than subscribers (${small.sqsMessages} → ${large.sqsMessages})`);
  }
  if (r.gap.withGap.emptyPages > 0) misses.push(`gap catch-up: ${r.gap.withGap.emptyPages} empty pages`);
  if (r.gap.withGap.maxQueriesPerPage > BUDGETS.pageQueries) misses.push(`gap catch-up: ${r.gap.withGap.maxQueriesPerPage} Queries on one page (budget ${BUDGETS.pageQueries})`);
  for (const c of r.coldStarts) {
    if (c.bundleBytes / 1024 > BUDGETS.bundleKb) {
      misses.push(`${c.function}: bundle ${(c.bundleBytes / 1024).toFixed(0)} KB (budget ${BUDGETS.bundleKb}; the AWS SDK is ${(c.sdkBytes / 1024).toFixed(0)} KB of it, our code ${(c.ownBytes / 1024).toFixed(0)} KB)`);
    }
    if (c.importMsMedian > BUDGETS.importMs) misses.push(`${c.function}: import ${c.importMsMedian.toFixed(0)} ms (budget ${BUDGETS.importMs})`);
  }
  if (r.scale.delivered < r.scale.subscriptions) misses.push(`scale: ${r.scale.delivered}/${r.scale.subscriptions} delivered`);
  if (r.scale.msToLastDelivery > BUDGETS.scaleMs) misses.push(`scale: last delivery after ${r.scale.msToLastDelivery.toFixed(0)} ms (budget ${BUDGETS.scaleMs})${fanoutFloorMs(r)}`);
  return misses;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = JSON.parse(readFileSync(resolve(import.meta.dirname, 'results', 'latest.json'), 'utf8')) as BenchReport;
  const misses = budgetMisses(report);
  for (const miss of misses) process.stderr.write(`MISS ${miss}\n`);
  process.stdout.write(misses.length ? `${misses.length} budget(s) missed\n` : 'all budgets met\n');
  process.exit(misses.length ? 1 : 0);
}
