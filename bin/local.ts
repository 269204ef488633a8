/**
 * `npm start`: the whole layer on 127.0.0.1 with the same handlers as in AWS.
 * Flags: --memory (throwaway data), --cadence instant|aws. Ports: HTTP_PORT, WS_PORT.
 */
import { parseArgs } from 'node:util';
import { startRuntime } from '../local/runtime';

const { values } = parseArgs({
  options: { memory: { type: 'boolean', default: false }, cadence: { type: 'string', default: 'instant' }, quiet: { type: 'boolean', default: false } },
});
if (values.cadence !== 'instant' && values.cadence !== 'aws') {
  console.error('--cadence must be instant or aws');
  process.exit(2);
}
const started = performance.now();
const runtime = await startRuntime({
  memory: values.memory,
  cadence: values.cadence,
  httpPort: Number(process.env.HTTP_PORT ?? 3000),
  wsPort: Number(process.env.WS_PORT ?? 3001),
  logRequests: !values.quiet,
});
console.log(JSON.stringify({ msg: 'realtime layer running', started_in_ms: Math.round(performance.now() - started), data: values.memory ? 'memory' : '.local/', endpoints: runtime.endpoints }, null, 2));

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: 'stopping', signal }));
  await runtime.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
