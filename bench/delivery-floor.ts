/**
 * The yardstick beside scenario 6: the CPU one delivery costs at its barest, both ends
 * counted, each side in its own process (delivery-floor-process.ts). Beside the runtime's
 * CPU per delivery it says how much of a delivery is the HTTP request itself, how much
 * the Fanout handler (the SDK's signed PostToConnection) adds, and what the local
 * endpoints add; and whether this machine can carry scenario 1's deliveries at all.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleFunctions } from '../local/bundle';
import { BUNDLING } from '../shared/spec/bundling';
import { functionSpec } from '../shared/spec/functions';
import { HANDLER_ENV } from './cold-start';

export interface DeliveryFloorResult {
  readonly posts: number;
  /** A plain keep-alive HTTP POST to a bare server: client and server CPU per post, µs. */
  readonly bareMicros: number;
  /** The Fanout bundle as deployed, one environment, posting to the same server: µs per post. */
  readonly fanoutMicros: number;
}

const SCRIPT = resolve(import.meta.dirname, 'delivery-floor-process.ts');
/** Fewer posts than this leave the HTTP client and the SDK half compiled: figures up to 2× too high. */
const WARM_UP_POSTS = 5000;
const MEASURED_POSTS = 5000;

function start(args: string[], endpoint = 'http://127.0.0.1:1'): ChildProcess {
  const env = { ...HANDLER_ENV, CONNECTIONS_ENDPOINT: endpoint, NODE_OPTIONS: BUNDLING.nodeOptions, PATH: process.env.PATH ?? '' };
  return fork(SCRIPT, args, { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const exited = (code: number | null) => reject(new Error(`delivery floor process exited with ${code}`));
    child.once('exit', exited);
    child.once('message', (message) => {
      child.off('exit', exited);
      resolvePromise(message as T);
    });
  });
}

async function serverCpuMicros(server: ChildProcess): Promise<number> {
  const reply = nextMessage<NodeJS.CpuUsage>(server);
  server.send('cpu');
  const usage = await reply;
  return usage.user + usage.system;
}

/** Poster plus server CPU per post, µs (through the Fanout bundle when given). */
async function cpuPerPost(server: ChildProcess, port: number, fanoutBundle?: string): Promise<number> {
  const args = ['poster', String(port), String(WARM_UP_POSTS), String(MEASURED_POSTS), ...(fanoutBundle ? [fanoutBundle] : [])];
  const poster = start(args, `http://127.0.0.1:${port}`);
  try {
    await nextMessage(poster); // warmed up
    const serverBefore = await serverCpuMicros(server);
    const done = nextMessage<{ cpuMicros: number }>(poster);
    poster.send('go');
    const { cpuMicros } = await done;
    const serverMicros = (await serverCpuMicros(server)) - serverBefore;
    return (cpuMicros + serverMicros) / MEASURED_POSTS;
  } finally {
    poster.kill();
  }
}

export async function measureDeliveryFloor(): Promise<DeliveryFloorResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
  const server = start(['server']);
  try {
    const fanoutBundle = (await bundleFunctions([functionSpec('Fanout')], dir)).get('Fanout') as string;
    const { port } = await nextMessage<{ port: number }>(server);
    return { posts: MEASURED_POSTS, bareMicros: await cpuPerPost(server, port), fanoutMicros: await cpuPerPost(server, port, fanoutBundle) };
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
