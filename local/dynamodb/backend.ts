/**
 * The dynalite server behind the front, and a small client for the front's own calls
 * to it (reading images, applying transaction items). Everything dynalite already does
 * is left to dynalite, so its expression semantics stay the one implementation.
 */
import { createRequire } from 'node:module';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export type Json = Record<string, unknown>;

export interface BackendReply {
  readonly status: number;
  readonly body: Json;
  readonly raw: string;
  readonly headers: Record<string, string>;
}

const FRONT_AUTH = 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

export class DynaliteBackend {
  private constructor(
    private readonly server: Server,
    private readonly port: number,
  ) {}

  static async start(path: string | undefined): Promise<DynaliteBackend> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new DynaliteBackend(server, (server.address() as AddressInfo).port);
  }

  /** Sends a request body as-is with the caller's headers (or the front's own). */
  send(target: string, body: string, headers: Record<string, string | string[] | undefined> = {}): Promise<BackendReply> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': (headers['content-type'] as string | undefined) ?? 'application/x-amz-json-1.0',
            'x-amz-target': target,
            authorization: (headers.authorization as string | undefined) ?? FRONT_AUTH,
            'x-amz-date': (headers['x-amz-date'] as string | undefined) ?? '20200101T000000Z',
            'content-length': Buffer.byteLength(body),
          },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            let parsed: Json = {};
            try {
              parsed = raw ? (JSON.parse(raw) as Json) : {};
            } catch {
              parsed = {};
            }
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
            resolve({ status: res.statusCode ?? 500, body: parsed, raw, headers: out });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The front's own call; throws on any error reply. */
  async call(operation: string, data: Json): Promise<Json> {
    const reply = await this.send(`DynamoDB_20120810.${operation}`, JSON.stringify(data));
    if (reply.status !== 200) {
      const error = new Error(`${operation}: ${String(reply.body.message ?? reply.raw)}`) as Error & { reply?: BackendReply };
      error.reply = reply;
      throw error;
    }
    return reply.body;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }
}
