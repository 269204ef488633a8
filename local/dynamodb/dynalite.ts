/**
 * dynalite's internals, typed: its store, each operation's validation (type checks,
 * then the custom checks that parse expressions into `_condition`, `_updates`, …) and
 * action, run in the order dynalite's own HTTP handler runs them. Nothing here changes
 * what dynalite does; the front calls in so dynalite stays the one implementation of
 * item semantics.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Json = Record<string, unknown>;
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

/** One answer on the wire: status and JSON body. */
export interface Reply {
  readonly status: number;
  readonly body: Json;
}

/** dynalite's error: an Error with the status and body it would send. */
export type DynaliteError = Error & { statusCode?: number; body?: Json };
export type Callback<T> = (err?: DynaliteError | null, out?: T) => void;

export interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

export interface TableDescription {
  readonly TableName: string;
  readonly TableArn: string;
  readonly TableStatus: string;
  readonly KeySchema: readonly KeySchemaElement[];
  readonly CreationDateTime: number;
}

type Release = <F>(cb: F) => F;

/** An item sub-database: keys are dynalite's `createKey` strings. */
export interface ItemDb {
  lock(key: string, run: (release: Release) => void): void;
  get(key: string, cb: Callback<Item | undefined>): void;
  put(key: string, value: Item, cb: Callback<void>): void;
  del(key: string, cb: Callback<void>): void;
}

/** The LevelDB instance; called without a callback, dynalite's wrappers return the (lifecycle-tracked) promise. */
interface LevelDb {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  clear(range: { gte?: string; gt?: string; lt?: string; lte?: string }): Promise<void>;
  iterator(range: { gte?: string; lt?: string }): AsyncIterable<[string, unknown]>;
}

/** A prefixed sub-database in dynalite's callback style. */
export interface SubDb {
  put(key: string, value: unknown, cb: Callback<void>): void;
  del(key: string, cb: Callback<void>): void;
}

export interface DynaliteStore {
  readonly options: { readonly maxItemSize: number };
  readonly db: LevelDb;
  readonly tableDb: SubDb;
  getItemDb(name: string): ItemDb;
  getIndexDb(type: string, table: string, index: string): SubDb;
  getTable(name: string, checkStatus: boolean | Callback<TableDescription>, cb?: Callback<TableDescription>): void;
  readonly lifecycleManager: { gracefulClose(cb: (err?: Error | null) => void): void };
}

interface Validation {
  readonly types: Json;
  readonly custom?: (data: Json, store: DynaliteStore) => string | undefined;
}
type Action = (store: DynaliteStore, data: Json, cb: Callback<Json>) => void;

const validations = require('dynalite/validations') as {
  checkTypes(data: Json, types: Json): Json;
  checkValidations(data: Json, types: Json, custom: Validation['custom'], store: DynaliteStore): void;
  toLowerFirst(name: string): string;
};

export const dynaliteDb = require('dynalite/db') as {
  create(options: Json): DynaliteStore;
  itemSize(item: Item): number;
  capacityUnits(item: Item | undefined, isRead: boolean, isConsistent?: boolean): number;
};

/** The operations dynalite serves, in its own list. */
export const DYNALITE_OPERATIONS: ReadonlySet<string> = new Set([
  'BatchGetItem', 'BatchWriteItem', 'CreateTable', 'DeleteItem', 'DeleteTable', 'DescribeTable', 'DescribeTimeToLive', 'GetItem',
  'ListTables', 'PutItem', 'Query', 'Scan', 'TagResource', 'UntagResource', 'ListTagsOfResource', 'UpdateItem', 'UpdateTable',
]);

const loaded = new Map<string, { validation: Validation; action: Action }>();

function operation(name: string): { validation: Validation; action: Action } {
  let op = loaded.get(name);
  if (!op) {
    const file = validations.toLowerFirst(name);
    op = { validation: require(`dynalite/validations/${file}`) as Validation, action: require(`dynalite/actions/${file}`) as Action };
    loaded.set(name, op);
  }
  return op;
}

/** Whether the operation's request takes ReturnConsumedCapacity. */
export function takesReturnConsumedCapacity(name: string): boolean {
  return 'ReturnConsumedCapacity' in operation(name).validation.types;
}

export function isDynaliteError(error: unknown): error is DynaliteError & { statusCode: number; body: Json } {
  return error instanceof Error && typeof (error as DynaliteError).statusCode === 'number' && typeof (error as DynaliteError).body === 'object';
}

/**
 * dynalite's type checks and validations for one operation's request: the checked
 * request (with parsed expressions), or the error reply dynalite would send.
 * `checkTypes` drops fields the operation does not know, so read those first.
 */
export function validate(store: DynaliteStore, name: string, request: Json): { data: Json } | { error: Reply } {
  const { validation } = operation(name);
  try {
    const data = validations.checkTypes(request, validation.types);
    validations.checkValidations(data, validation.types, validation.custom, store);
    return { data };
  } catch (error) {
    if (isDynaliteError(error)) return { error: { status: error.statusCode, body: error.body } };
    throw error;
  }
}

/** Runs dynalite's action on a validated request (or a request the front built itself). */
export function runAction(store: DynaliteStore, name: string, data: Json): Promise<Reply> {
  const { action } = operation(name);
  return new Promise((resolve, reject) => {
    action(store, data, (err, out) => {
      if (isDynaliteError(err)) resolve({ status: err.statusCode, body: err.body });
      else if (err) reject(err);
      else resolve({ status: 200, body: out ?? {} });
    });
  });
}

/** Validation, then the action: what dynalite answers to this request. */
export async function execute(store: DynaliteStore, name: string, request: Json): Promise<Reply> {
  const checked = validate(store, name, request);
  return 'error' in checked ? checked.error : runAction(store, name, checked.data);
}

const TYPE_PREFIX = { dynamodb: 'com.amazonaws.dynamodb.v20120810#', coral: 'com.amazon.coral.service#', validate: 'com.amazon.coral.validate#' };

export function validationError(message: string): Reply {
  return { status: 400, body: { __type: `${TYPE_PREFIX.validate}ValidationException`, message } };
}

export function dynamoDbError(type: string, message: string, extra: Json = {}): Reply {
  return { status: 400, body: { __type: `${TYPE_PREFIX.dynamodb}${type}`, message, ...extra } };
}

export function serviceError(type: 'UnknownOperationException' | 'SerializationException'): Reply {
  return { status: 400, body: { __type: `${TYPE_PREFIX.coral}${type}` } };
}

/** The error type's short name: `ConditionalCheckFailedException` from its `__type`. */
export function errorType(reply: Reply): string {
  return String(reply.body.__type ?? '').replace(/^.*#/, '');
}
