/**
 * Idempotent writes whose record commits in the same transaction as the write it
 * guards. The record holds the payload's hash and the response to replay; it is put
 * under `attribute_not_exists(pk) OR expires_at < :now` because TTL deletes lag by days,
 * so an expired key is new again whether or not it was swept.
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../clients/dynamodb';
import { now } from '../clock';
import { config } from '../config';
import { IdempotencyKeyReusedError, InvalidRequestError } from '../errors';
import { GuardFailedError, type GuardItem } from './allocator';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
export const IDEMPOTENCY_GUARD = 'idempotency';
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotency-Replayed';

/** Who asked, through which route, in which scope, with which key: the record's identity. */
export interface IdempotencyScope {
  readonly actor: string;
  readonly route: string;
  readonly scope: string;
  readonly key: string;
}

/** The response a key answers with, first time and every replay. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface IdempotencyRecord {
  readonly pk: string;
  readonly payload_hash: string;
  readonly status: number;
  /** JSON text of the response body. */
  readonly body: string;
  /** Epoch seconds (the table's TTL attribute). */
  readonly expires_at: number;
}

export interface IdempotentResult {
  readonly response: StoredResponse;
  readonly replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header: required, 1..255 visible ASCII characters. */
export function requireIdempotencyKey(headers: Readonly<Record<string, string | undefined>>): string {
  const key = headers[IDEMPOTENCY_KEY_HEADER];
  if (key === undefined || key === '') throw new InvalidRequestError('The Idempotency-Key header is required.', { details: { field: 'Idempotency-Key' } });
  if (!KEY_PATTERN.test(key)) throw new InvalidRequestError('Idempotency-Key must be 1 to 255 visible ASCII characters.', { details: { field: 'Idempotency-Key' } });
  return key;
}

/** `<actor>#<route>#<scope>#<key>`, each part escaped so no two scopes share a pk. */
export function idempotencyPk(scope: IdempotencyScope): string {
  return [scope.actor, scope.route, scope.scope, scope.key].map(encodeURIComponent).join('#');
}

/** SHA-256 of the payload's canonical JSON (object keys sorted). */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The record's Put, for the guarded transaction. */
export function idempotencyGuard(pk: string, hash: string, response: StoredResponse): GuardItem {
  const nowSeconds = Math.floor(now() / 1000);
  const record: IdempotencyRecord = {
    pk,
    payload_hash: hash,
    status: response.status,
    body: JSON.stringify(response.body),
    expires_at: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
  };
  return {
    tag: IDEMPOTENCY_GUARD,
    item: {
      Put: {
        TableName: config.TABLE_IDEMPOTENCY,
        Item: record,
        ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
    },
  };
}

/** A live record (strongly consistent); undefined when absent or expired. */
export async function readIdempotencyRecord(pk: string): Promise<IdempotencyRecord | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: config.TABLE_IDEMPOTENCY, Key: { pk }, ConsistentRead: true }));
  const record = Item as IdempotencyRecord | undefined;
  if (!record || record.expires_at < Math.floor(now() / 1000)) return undefined;
  return record;
}

/** Attempts when the record vanishes (expired) between a failed put and its read. */
const MAX_ATTEMPTS = 3;

/**
 * Runs `write` with the record as a guard (`guard(response)` builds its transaction
 * item). When the key is taken: the same payload replays the stored response, another
 * payload is 409 idempotency_key_reused.
 */
export async function runIdempotent(
  pk: string,
  hash: string,
  write: (guard: (response: StoredResponse) => GuardItem) => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { response: await write((response) => idempotencyGuard(pk, hash, response)), replayed: false };
    } catch (error) {
      if (!(error instanceof GuardFailedError && error.tag === IDEMPOTENCY_GUARD)) throw error;
      const record = await readIdempotencyRecord(pk);
      if (record) {
        if (record.payload_hash !== hash) throw new IdempotencyKeyReusedError();
        return { response: { status: record.status, body: JSON.parse(record.body) as unknown }, replayed: true };
      }
      if (attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
