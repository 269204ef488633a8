/**
 * Time to Live: the attribute per table, and an in-memory index of every item's expiry
 * (epoch seconds, a Number attribute) kept current by the store's write reports, so a
 * sweep finds the expired items without scanning the table.
 */
import type { Item } from './dynalite';
import { pick } from './store';

interface Expiry {
  /** Epoch seconds, as stored. */
  readonly expires: number;
  readonly key: Item;
}

export interface DueItem {
  readonly table: string;
  readonly keyString: string;
  readonly key: Item;
}

export class TimeToLive {
  /** Table → TTL attribute. */
  readonly attributes = new Map<string, string>();
  private readonly index = new Map<string, Map<string, Expiry>>();
  /** No item expires before this (epoch seconds); lets a sweep with nothing due skip the index. */
  private earliest = Infinity;

  enable(table: string, attribute: string): void {
    this.attributes.set(table, attribute);
    this.index.set(table, new Map());
  }

  disable(table: string): void {
    this.attributes.delete(table);
    this.index.delete(table);
  }

  /** Records an item's expiry after a write (or its absence). */
  observe(table: string, keyString: string, item: Item | undefined, keyNames: readonly string[]): void {
    const attribute = this.attributes.get(table);
    const entries = this.index.get(table);
    if (!attribute || !entries) return;
    const value = item?.[attribute]?.N;
    const expires = typeof value === 'string' ? Number(value) : NaN;
    if (!item || !Number.isFinite(expires)) {
      entries.delete(keyString);
      return;
    }
    entries.set(keyString, { expires, key: pick(item, keyNames) });
    if (expires < this.earliest) this.earliest = expires;
  }

  /** Whether the item is in the index and expired at `nowMs`. */
  isDue(table: string, keyString: string, nowMs: number): boolean {
    const entry = this.index.get(table)?.get(keyString);
    return entry !== undefined && entry.expires * 1000 < nowMs;
  }

  forget(table: string, keyString: string): void {
    this.index.get(table)?.delete(keyString);
  }

  /** Up to `limit` items whose TTL attribute is before `nowMs`. */
  due(nowMs: number, limit: number): DueItem[] {
    if (this.earliest * 1000 >= nowMs) return [];
    const out: DueItem[] = [];
    let earliest = Infinity;
    for (const [table, entries] of this.index) {
      for (const [keyString, entry] of entries) {
        if (entry.expires * 1000 < nowMs) {
          if (out.length < limit) out.push({ table, keyString, key: entry.key });
          else earliest = Math.min(earliest, entry.expires);
        } else {
          earliest = Math.min(earliest, entry.expires);
        }
      }
    }
    this.earliest = out.length > 0 ? Math.min(earliest, ...out.map((d) => this.index.get(d.table)?.get(d.keyString)?.expires ?? Infinity)) : earliest;
    return out;
  }
}
