/**
 * dynalite's store, adapted for the front. dynalite's actions run unchanged on it; the
 * adapter changes only how they reach LevelDB and adds a window on every item write:
 *
 * - Each dynalite write action reads the item under its key lock, then puts or deletes
 *   it. The item databases report each applied write — table, key, old and new item —
 *   whatever action made it (single-item, batch, transaction, TTL): that feeds streams
 *   and the TTL index with no extra read or write.
 * - Item and index reads and writes go through LevelDB's promise API (still tracked by
 *   dynalite's lifecycle manager, so close waits for them) rather than dynalite's
 *   callback wrappers, which defer every callback to the next event-loop turn: writes
 *   hold the front's lock, and a busy process makes each such turn cost milliseconds.
 * - Item actions' table lookups (`getTable(name, cb)`, which never change the
 *   description) are answered from a cache that every write of a table record clears.
 */
import { dynaliteDb, runAction, type Callback, type DynaliteStore, type Item, type ItemDb, type Json, type Reply, type SubDb, type TableDescription } from './dynalite';

export interface AppliedWrite {
  readonly table: string;
  /** dynalite's key string (unique per item within the table). */
  readonly key: string;
  readonly oldItem: Item | undefined;
  readonly newItem: Item | undefined;
}

/** What a write action would do, found without doing it (transactions check first, then apply). */
export interface DryRun {
  /** The action's refusal, if any. */
  readonly error?: Reply;
  /** Whether the action got as far as reading the item: before that, a refusal is about the request itself. */
  readonly reachedItem: boolean;
  readonly key?: string;
  readonly oldItem?: Item;
  /** The item the action would put; undefined for a delete (or when refused). */
  readonly newItem?: Item;
}

// dynalite's key layout (db/index.js, getItemDb / getIndexDb).
const itemPrefix = (table: string) => `item-${table}~`;
const indexPrefix = (type: string, table: string, index: string) => `index-${type.toLowerCase()}~${table}~${index}~`;

/** A promise's outcome to a dynalite-style callback, on the microtask queue (a throwing callback still surfaces). */
function settle<T>(promise: Promise<T>, cb: Callback<T>): void {
  promise.then(
    (value) => queueMicrotask(() => cb(null, value)),
    (error: Error) => queueMicrotask(() => cb(error)),
  );
}

const noIndexDb: SubDb = {
  put: (_key, _value, cb) => queueMicrotask(() => cb()),
  del: (_key, cb) => queueMicrotask(() => cb()),
};
const noLock: ItemDb['lock'] = (_key, run) => run((cb) => cb);

export class ObservedStore {
  readonly store: DynaliteStore;
  private readonly itemDbs = new Map<string, ItemDb>();
  private readonly indexDbs = new Map<string, SubDb>();
  private readonly tables = new Map<string, TableDescription>();
  /** Bumped on every table-record write: a lookup that raced one is not cached. */
  private tableVersion = 0;
  /** Key attribute names (hash first) of every table seen. */
  private readonly keys = new Map<string, string[]>();
  /** Items read by the running write, by table and key: the old image of its put or delete. */
  private readonly readByWrite = new Map<string, Item | undefined>();
  private writing = false;
  onWrite: (write: AppliedWrite) => void = () => undefined;

  constructor(path: string | undefined) {
    this.store = dynaliteDb.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) });
    const store = this.store;
    const getItemDb = store.getItemDb.bind(store);
    const getIndexDb = store.getIndexDb.bind(store);
    const getTable = store.getTable.bind(store);
    const tableDb = store.tableDb;
    const tablePut = tableDb.put.bind(tableDb);
    const tableDel = tableDb.del.bind(tableDb);
    const changed = (name: string) => {
      this.tableVersion++;
      this.tables.delete(name);
    };
    Object.assign(tableDb, {
      put: (name: string, value: unknown, cb: Callback<void>) => {
        changed(name);
        tablePut(name, value, (err) => {
          changed(name);
          cb(err);
        });
      },
      del: (name: string, cb: Callback<void>) => {
        changed(name);
        tableDel(name, (err) => {
          changed(name);
          cb(err);
        });
      },
    });
    Object.assign(store, {
      getItemDb: (name: string) => this.itemDb(name, getItemDb),
      getIndexDb: (type: string, table: string, index: string) => {
        const prefix = indexPrefix(type, table, index);
        let db = this.indexDbs.get(prefix);
        if (!db) {
          db = Object.assign(Object.create(getIndexDb(type, table, index)) as SubDb, {
            put: (key: string, value: unknown, cb: Callback<void>) => settle(store.db.put(prefix + key, value), cb),
            del: (key: string, cb: Callback<void>) => settle(store.db.del(prefix + key), cb),
          });
          this.indexDbs.set(prefix, db);
        }
        return db;
      },
      getTable: (name: string, checkStatus: boolean | Callback<TableDescription>, cb?: Callback<TableDescription>) => {
        const cached = typeof checkStatus === 'function' ? this.tables.get(name) : undefined;
        if (cached) return queueMicrotask(() => (checkStatus as Callback<TableDescription>)(null, cached));
        const version = this.tableVersion;
        const remember: Callback<TableDescription> = (err, table) => {
          if (table) {
            this.keys.set(name, keyNamesOf(table));
            if (typeof checkStatus === 'function' && version === this.tableVersion) this.tables.set(name, table);
          }
          (typeof checkStatus === 'function' ? checkStatus : (cb as Callback<TableDescription>))(err, table);
        };
        if (typeof checkStatus === 'function') getTable(name, remember);
        else getTable(name, checkStatus, remember);
      },
    });
  }

  /** The table's key attribute names (hash first) once any operation has looked the table up. */
  keyNamesOf(table: string): string[] | undefined {
    return this.keys.get(table);
  }

  /** The table's key attribute names, hash first; looks the table up when not known yet. */
  async keyNames(table: string): Promise<string[] | undefined> {
    if (!this.keys.has(table)) await new Promise<void>((resolve) => this.store.getTable(table, false, () => resolve()));
    return this.keys.get(table);
  }

  /** Forgets a deleted table. */
  forget(table: string): void {
    this.keys.delete(table);
    this.tables.delete(table);
    this.itemDbs.delete(table);
    for (const prefix of this.indexDbs.keys()) if (prefix.includes(`~${table}~`)) this.indexDbs.delete(prefix);
  }

  /** Runs one write section: item reads inside it are the old images of its writes. */
  async write<T>(run: () => Promise<T>): Promise<T> {
    this.writing = true;
    try {
      return await run();
    } finally {
      this.writing = false;
      this.readByWrite.clear();
    }
  }

  /**
   * Runs `run` (writes applied together, e.g. a transaction's) holding back their
   * reports, then reports them ranked by `rank`: the order of a transaction's records
   * is its request order, whatever order its writes completed in.
   */
  async reportInOrder<T>(run: () => Promise<T>, rank: (write: AppliedWrite) => number): Promise<T> {
    const report = this.onWrite;
    const held: AppliedWrite[] = [];
    this.onWrite = (write) => held.push(write);
    try {
      return await run();
    } finally {
      this.onWrite = report;
      for (const write of held.sort((a, b) => rank(a) - rank(b))) report(write);
    }
  }

  /** Reads one item (undefined when absent). */
  private read(table: string, key: string, cb: Callback<Item | undefined>): void {
    settle(this.store.db.get(itemPrefix(table) + key) as Promise<Item | undefined>, cb);
  }

  private itemDb(table: string, getItemDb: (name: string) => ItemDb): ItemDb {
    let db = this.itemDbs.get(table);
    if (db) return db;
    const prefix = itemPrefix(table);
    const level = this.store.db;
    const id = (key: string) => `${table}\u0000${key}`;
    /** The old item: read by the running write action, or read now. */
    const old = (key: string, cb: Callback<Item | undefined>) => (this.readByWrite.has(id(key)) ? cb(null, this.readByWrite.get(id(key))) : this.read(table, key, cb));
    const apply = (key: string, newItem: Item | undefined, write: Promise<void>, oldItem: Item | undefined, cb: Callback<void>) =>
      settle(write, (err) => {
        this.readByWrite.delete(id(key));
        if (!err) this.onWrite({ table, key, oldItem, newItem });
        cb(err);
      });
    // dynalite's sub-database stays the prototype: its key lock and range streams.
    db = Object.assign(Object.create(getItemDb(table)) as ItemDb, {
      get: (key: string, cb: Callback<Item | undefined>) => {
        if (!this.writing) return this.read(table, key, cb);
        this.read(table, key, (err, item) => {
          if (!err) this.readByWrite.set(id(key), item);
          cb(err, item);
        });
      },
      put: (key: string, value: Item, cb: Callback<void>) => old(key, (err, item) => (err ? cb(err) : apply(key, value, level.put(prefix + key, value), item, cb))),
      del: (key: string, cb: Callback<void>) => old(key, (err, item) => (err ? cb(err) : apply(key, undefined, level.del(prefix + key), item, cb))),
    });
    this.itemDbs.set(table, db);
    return db;
  }

  /**
   * Runs a write action (PutItem, UpdateItem or DeleteItem) against the store without
   * writing anything: dynalite's own code checks the item and its condition and computes
   * the new item. Index writes are dropped; nothing is reported.
   */
  dryRun(name: 'PutItem' | 'UpdateItem' | 'DeleteItem', data: Json): Promise<DryRun> {
    let reachedItem = false;
    let key: string | undefined;
    let oldItem: Item | undefined;
    let newItem: Item | undefined;
    const dry: DynaliteStore = {
      ...this.store,
      getItemDb: (table: string): ItemDb => {
        return {
          lock: noLock,
          get: (k, cb) => {
            reachedItem = true;
            key = k;
            this.read(table, k, (err, item) => {
              oldItem = item;
              cb(err, item);
            });
          },
          put: (_k, value, cb) => {
            newItem = value;
            queueMicrotask(() => cb());
          },
          del: (_k, cb) => queueMicrotask(() => cb()),
        };
      },
      getIndexDb: () => noIndexDb,
    };
    return runAction(dry, name, data).then((reply) => ({
      ...(reply.status === 200 ? {} : { error: reply }),
      reachedItem,
      ...(key === undefined ? {} : { key }),
      ...(oldItem ? { oldItem } : {}),
      ...(newItem && reply.status === 200 ? { newItem } : {}),
    }));
  }

  /** Every stored item of a table, with its key string (a full read: only for rebuilding an index). */
  async *items(table: string): AsyncIterable<[string, Item]> {
    const prefix = itemPrefix(table);
    for await (const [key, value] of this.store.db.iterator({ gte: prefix, lt: `${prefix}\xff` })) {
      yield [key.slice(prefix.length), value as Item];
    }
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.store.lifecycleManager.gracefulClose((err) => (err ? reject(err) : resolve())));
  }
}

export function keyNamesOf(table: Pick<TableDescription, 'KeySchema'>): string[] {
  const hash = table.KeySchema.filter((k) => k.KeyType === 'HASH');
  const range = table.KeySchema.filter((k) => k.KeyType === 'RANGE');
  return [...hash, ...range].map((k) => k.AttributeName);
}

export function pick(item: Item, names: readonly string[]): Item {
  const out: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value) out[name] = value;
  }
  return out;
}
