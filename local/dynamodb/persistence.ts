/**
 * What the front adds to an on-disk store — stream specifications, TTL settings, the
 * stream sequence and the stream records — kept in the same LevelDB under keys of
 * its own (dynalite's are `table~`, `item-…`, `index-…`, `tag-…`), so one directory
 * holds everything and a restart finds it all. Writes are not awaited by requests;
 * `flush()` waits for them before the store closes.
 */
import type { DynaliteStore, KeySchemaElement } from './dynalite';
import type { StoredRecord, StreamViewType } from './streams';

export interface StreamSettings {
  readonly viewType: StreamViewType;
  readonly label: string;
  readonly arn: string;
  readonly createdAt: number;
  readonly keySchema: readonly KeySchemaElement[];
}

export interface FrontState {
  /** The highest stream sequence number handed out. */
  readonly sequence: number;
  readonly streams: Record<string, StreamSettings>;
  /** Table → TTL attribute, for tables with TTL enabled. */
  readonly ttl: Record<string, string>;
}

const STATE_KEY = 'front~state';
const recordPrefix = (table: string) => `front~record~${table}~`;
export const SEQUENCE_DIGITS = 21;
const recordKey = (table: string, seq: number) => `${recordPrefix(table)}${String(seq).padStart(SEQUENCE_DIGITS, '0')}`;

export class Persistence {
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;

  constructor(private readonly store: DynaliteStore) {}

  async loadState(): Promise<FrontState | undefined> {
    for await (const [, value] of this.store.db.iterator({ gte: STATE_KEY, lt: `${STATE_KEY}\u0000` })) return value as FrontState;
    return undefined;
  }

  /** The table's stored records, oldest first. */
  async loadRecords(table: string): Promise<StoredRecord[]> {
    const prefix = recordPrefix(table);
    const out: StoredRecord[] = [];
    for await (const [, value] of this.store.db.iterator({ gte: prefix, lt: `${prefix}\xff` })) out.push(value as StoredRecord);
    return out;
  }

  saveState(state: FrontState): void {
    this.track(this.store.db.put(STATE_KEY, state));
  }

  saveRecord(table: string, record: StoredRecord): void {
    this.track(this.store.db.put(recordKey(table, record.seq), record));
  }

  /** Drops the table's records up to and including `throughSeq` (all of them when omitted). */
  dropRecords(table: string, throughSeq?: number): void {
    const prefix = recordPrefix(table);
    this.track(this.store.db.clear(throughSeq === undefined ? { gte: prefix, lt: `${prefix}\xff` } : { gte: prefix, lte: recordKey(table, throughSeq) }));
  }

  /** Resolves once every write so far is stored; rejects if one failed. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    if (this.failure) throw this.failure;
  }

  private track(operation: Promise<void>): void {
    const tracked = operation.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
