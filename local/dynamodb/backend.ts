/**
 * dynalite, in-process: its store, and each operation run through dynalite's own code
 * path (type checks → validations → action), exactly as its HTTP handler runs them,
 * without the extra HTTP hop. Everything dynalite already does is left to dynalite, so
 * its expression semantics stay the one implementation.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Json = Record<string, unknown>;

export interface BackendReply {
  readonly status: number;
  readonly body: Json;
}

interface DynaliteValidation {
  types: Json;
  custom?: (data: Json, store: unknown) => string | undefined;
}
type Action = (store: unknown, data: Json, cb: (err: { statusCode?: number; body?: Json } | null, out?: Json) => void) => void;
interface Store {
  lifecycleManager?: { gracefulClose(cb: (err?: Error) => void): void };
  db: { close(cb: (err?: Error) => void): void };
}

const db = require('dynalite/db') as { create(options: Json): Store };
const validations = require('dynalite/validations') as {
  checkTypes(data: Json, types: Json): Json;
  checkValidations(data: Json, types: Json, custom: DynaliteValidation['custom'], store: unknown): void;
  toLowerFirst(name: string): string;
};

/** The operations dynalite serves (the rest answer UnknownOperationException, as dynalite does). */
export const DYNALITE_OPERATIONS = [
  'BatchGetItem', 'BatchWriteItem', 'CreateTable', 'DeleteItem', 'DeleteTable', 'DescribeTable', 'DescribeTimeToLive', 'GetItem',
  'ListTables', 'PutItem', 'Query', 'Scan', 'TagResource', 'UntagResource', 'ListTagsOfResource', 'UpdateItem', 'UpdateTable',
];

const loaded = new Map<string, { validation: DynaliteValidation; action: Action }>();
function operation(name: string) {
  let op = loaded.get(name);
  if (!op) {
    const file = validations.toLowerFirst(name);
    op = { validation: require(`dynalite/validations/${file}`) as DynaliteValidation, action: require(`dynalite/actions/${file}`) as Action };
    loaded.set(name, op);
  }
  return op;
}

export class DynaliteBackend {
  private constructor(private readonly store: Store) {}

  static start(path: string | undefined): DynaliteBackend {
    return new DynaliteBackend(db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) }));
  }

  /** One request as dynalite's handler answers it: status and JSON body. */
  send(name: string, request: Json): Promise<BackendReply> {
    if (!DYNALITE_OPERATIONS.includes(name)) {
      return Promise.resolve({ status: 400, body: { __type: 'com.amazon.coral.service#UnknownOperationException' } });
    }
    const { validation, action } = operation(name);
    let data: Json;
    try {
      data = validations.checkTypes(request, validation.types);
      validations.checkValidations(data, validation.types, validation.custom, this.store);
    } catch (error) {
      const e = error as { statusCode?: number; body?: Json };
      if (e.statusCode && e.body) return Promise.resolve({ status: e.statusCode, body: e.body });
      throw error;
    }
    return new Promise((resolve, reject) => {
      action(this.store, data, (err, out) => {
        if (err?.statusCode && err.body) resolve({ status: err.statusCode, body: err.body });
        else if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ status: 200, body: out ?? {} });
      });
    });
  }

  /** The front's own call; throws on any error reply. */
  async call(name: string, data: Json): Promise<Json> {
    const reply = await this.send(name, data);
    if (reply.status !== 200) {
      const error = new Error(`${name}: ${String(reply.body.message ?? reply.body.__type)}`) as Error & { reply?: BackendReply };
      error.reply = reply;
      throw error;
    }
    return reply.body;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => (err ? reject(err) : resolve());
      if (this.store.lifecycleManager) this.store.lifecycleManager.gracefulClose(done);
      else this.store.db.close(done);
    });
  }
}
