/**
 * The one description of every DynamoDB table. The CDK `Tables` construct and the
 * local runtime both build their tables from it, so the two can never disagree.
 * Plain data only: importing this module must never load aws-cdk-lib.
 */

export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexSpec {
  readonly indexName: string;
  readonly partitionKey?: KeyAttribute; // GSIs only; an LSI shares the table's partition key
  readonly sortKey: KeyAttribute;
  readonly projection: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

export interface TableSpec {
  /** Logical id: the suffix of the physical name and the key of `tableNames` in config. */
  readonly id: TableId;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly localIndexes?: readonly IndexSpec[];
  readonly globalIndexes?: readonly IndexSpec[];
  /** Epoch-seconds attribute DynamoDB TTL deletes by. */
  readonly ttlAttribute?: string;
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'OLD_IMAGE' | 'KEYS_ONLY';
}

export type TableId = 'catalog' | 'entries' | 'connections' | 'idempotency' | 'entitlements';

/** Index names the domain code queries by. */
export const ENTRIES_BY_CREATED_AT = 'by_created_at';
export const ENTRIES_BY_CHANGE_SEQ = 'by_change_seq';
export const CATALOG_GSI1 = 'gsi1';
export const CONNECTIONS_BY_USER = 'by_user';

export const TABLES: readonly TableSpec[] = [
  {
    // Stream heads (channel / topic / conversation metadata + seq counters), entry-id
    // pointers, forums, memberships, per-user lists, blocks. Generic pk/sk single-table.
    id: 'catalog',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [
      {
        indexName: CATALOG_GSI1,
        partitionKey: { name: 'gsi1pk', type: 'S' },
        sortKey: { name: 'gsi1sk', type: 'S' },
        projection: 'ALL',
      },
    ],
  },
  {
    // Every post and message, stored once, keyed by (stream, seq). Only entries live
    // here, so its stream is the outbox: exactly one record per change.
    id: 'entries',
    partitionKey: { name: 'stream', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
    localIndexes: [
      // Read-window edges (times) map to seq ranges; strongly consistent.
      { indexName: ENTRIES_BY_CREATED_AT, sortKey: { name: 'created_at', type: 'S' }, projection: 'KEYS_ONLY' },
      // Sync by change_seq (/changes, WebSocket catch-up); strongly consistent.
      { indexName: ENTRIES_BY_CHANGE_SEQ, sortKey: { name: 'change_seq', type: 'N' }, projection: 'ALL' },
    ],
    stream: 'NEW_IMAGE',
  },
  {
    // Connections, per-stream subscriptions (with the access decision), per-connection
    // subscription index for cleanup. TTL past API Gateway's 2 h connection limit.
    id: 'connections',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalIndexes: [
      {
        indexName: CONNECTIONS_BY_USER,
        partitionKey: { name: 'user_id', type: 'S' },
        sortKey: { name: 'connection_id', type: 'S' },
        projection: 'KEYS_ONLY',
      },
    ],
    ttlAttribute: 'expires_at',
  },
  {
    // Idempotency records committed in the same transaction as the write they guard.
    id: 'idempotency',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expires_at',
  },
  {
    // The default access provider's subscription periods and backfill policies.
    id: 'entitlements',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
  },
];

export function tableSpec(id: TableId): TableSpec {
  const spec = TABLES.find((t) => t.id === id);
  if (!spec) throw new Error(`unknown table ${id}`);
  return spec;
}
