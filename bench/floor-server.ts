/**
 * The floor for scenario 1: a bare HTTP + WebSocket server in its own process that
 * answers `POST /publish?seq=N` by sending one frame to every socket. No auth, no
 * storage, no queue: what the client harness and the machine cost on their own.
 * Prints `{"http": port, "ws": port}` on stdout once listening.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const http = createServer((req, res) => {
  const seq = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('seq'));
  const frame = JSON.stringify({ type: 'floor', seq });
  for (const client of wss.clients) client.send(frame);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});

const wsListening = new Promise<void>((resolve) => wss.once('listening', resolve));
const httpListening = new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await Promise.all([wsListening, httpListening]);
const httpAddress = http.address();
const wsAddress = wss.address();
if (typeof httpAddress === 'object' && httpAddress && typeof wsAddress === 'object' && wsAddress) {
  process.stdout.write(`${JSON.stringify({ http: httpAddress.port, ws: wsAddress.port })}\n`);
}

process.on('SIGTERM', () => {
  wss.close();
  http.close();
  process.exit(0);
});
