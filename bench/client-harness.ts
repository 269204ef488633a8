/**
 * The WebSocket client harness, run in its own process (fork) so that 1,000 sockets'
 * JSON parsing does not slow the server being measured. It connects, optionally
 * subscribes, and records when each socket received each delta (keyed by seq).
 *
 * Parent → child: {cmd: 'connect', urls: string[], subscribe?: object}
 *                 {cmd: 'collect'} | {cmd: 'close'}
 * Child → parent: {ready: true, connected, failed} | {receipts: [seq, receivedAtMs][], duplicates}
 */
import WebSocket from 'ws';
import { wallMs } from './clock';

interface ConnectCommand {
  cmd: 'connect';
  urls: string[];
  subscribe?: Record<string, unknown>;
}

type Command = ConnectCommand | { cmd: 'collect' } | { cmd: 'close' };

const sockets: WebSocket[] = [];
let receipts: [number, number][] = [];
let duplicates = 0;

function send(message: unknown): void {
  process.send?.(message);
}

function openSocket(url: string, subscribe: Record<string, unknown> | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const seen = new Set<number>();
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) {
        settled = true;
        resolve(ok);
      }
    };
    ws.on('open', () => {
      sockets.push(ws);
      if (subscribe) ws.send(JSON.stringify(subscribe));
      else settle(true);
    });
    ws.on('message', (data) => {
      const t = wallMs();
      const frame = JSON.parse(data.toString()) as { type?: string; seq?: number };
      if (frame.type === 'subscribed') settle(true);
      else if (frame.type === 'error') settle(false);
      else if (typeof frame.seq === 'number' && (frame.type === 'delta' || frame.type === 'floor')) {
        if (seen.has(frame.seq)) duplicates++;
        else {
          seen.add(frame.seq);
          receipts.push([frame.seq, t]);
        }
      }
    });
    ws.on('error', () => settle(false));
    ws.on('close', () => settle(false));
  });
}

async function connectAll(command: ConnectCommand): Promise<void> {
  let connected = 0;
  let failed = 0;
  // Bounded concurrency: a connect storm of 1,000 upgrades at once only measures the accept queue.
  const queue = [...command.urls];
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
        if (await openSocket(url, command.subscribe)) connected++;
        else failed++;
      }
    }),
  );
  send({ ready: true, connected, failed });
}

process.on('message', (command: Command) => {
  if (command.cmd === 'connect') void connectAll(command);
  else if (command.cmd === 'collect') {
    send({ receipts, duplicates });
    receipts = [];
    duplicates = 0;
  } else {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
