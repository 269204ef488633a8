/**
 * TransactWriteItems and TransactGetItems for the local front. Each item is validated
 * by dynalite's own validation for the matching single-item operation and its
 * condition evaluated by dynalite's own `checkConditional`; under the writer lock all
 * conditions are checked first, then every write applied, so a transaction is
 * all-or-nothing and nobody sees it half-done.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Json } from './backend';
import type { Front } from './index';
import type { Item } from './streams';

const require = createRequire(import.meta.url);
interface DynaliteValidation {
  types: Json;
  custom?: (data: Json, store: unknown) => string | undefined;
}
const validations = require('dynalite/validations') as {
  checkTypes(data: Json, types: Json): Json;
  checkValidations(data: Json, types: Json, custom: DynaliteValidation['custom'], store: unknown): void;
};
const dynaliteDb = require('dynalite/db') as {
  checkConditional(data: Json, existing: Item | undefined): { body?: Json } | null | undefined;
  itemSize(item: Item): number;
};
const VALIDATION_OF: Record<string, DynaliteValidation> = {
  Put: require('dynalite/validations/putItem') as DynaliteValidation,
  Update: require('dynalite/validations/updateItem') as DynaliteValidation,
  Delete: require('dynalite/validations/deleteItem') as DynaliteValidation,
  // A condition check is a delete that is never applied: the same key and condition rules.
  ConditionCheck: require('dynalite/validations/deleteItem') as DynaliteValidation,
};
const VALIDATION_STORE = { options: { maxItemSize: 400 * 1024 } };
const MAX_ACTIONS = 100;
const TOKEN_TTL_MS = 10 * 60 * 1000;

type Reply = { status: number; body: Json; consumed?: Json[] };

const validationError = (message: string): Reply => ({
  status: 400,
  body: { __type: 'com.amazon.coral.validate#ValidationException', message },
});

interface Action {
  readonly kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  readonly table: string;
  readonly key: Item;
  /** The validated request, with dynalite's parsed `_condition` / `_updates`. */
  readonly data: Json;
  readonly returnOnFailure: boolean;
}

function validate(kind: Action['kind'], raw: Json): Json {
  const { ReturnValuesOnConditionCheckFailure: _ignored, ...request } = raw;
  const validation = VALIDATION_OF[kind] as DynaliteValidation;
  const data = validations.checkTypes(request, validation.types);
  validations.checkValidations(data, validation.types, validation.custom, VALIDATION_STORE);
  return data;
}

async function parseActions(front: Front, items: unknown): Promise<Action[] | Reply> {
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ACTIONS) {
    return validationError(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ACTIONS} and greater than or equal to 1`,
    );
  }
  const actions: Action[] = [];
  const seen = new Set<string>();
  for (const entry of items as Json[]) {
    const kinds = Object.keys(entry ?? {}).filter((k) => k in VALIDATION_OF);
    if (kinds.length !== 1) return validationError('TransactItems can only contain one of Check, Put, Update or Delete');
    const kind = kinds[0] as Action['kind'];
    const raw = entry[kind] as Json;
    let data: Json;
    try {
      data = validate(kind, raw);
    } catch (error) {
      const body = (error as { body?: Json }).body;
      if (body) return { status: 400, body };
      throw error;
    }
    const table = data.TableName as string;
    let key: Item;
    try {
      key = kind === 'Put' ? await front.keyOf(table, data.Item as Item) : (data.Key as Item);
      await front.keysOf(table);
    } catch {
      return { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' } };
    }
    const identity = `${table}\u0000${JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]))}`;
    if (seen.has(identity)) return validationError('Transaction request cannot include multiple operations on one item');
    seen.add(identity);
    actions.push({ kind, table, key, data, returnOnFailure: raw.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' });
  }
  return actions;
}

/** Keeps only the names and values an expression uses (dynalite rejects unused ones). */
function usedBy(expression: string, data: Json): Json {
  const names = Object.fromEntries(Object.entries((data.ExpressionAttributeNames as Json) ?? {}).filter(([n]) => expression.includes(n)));
  const values = Object.fromEntries(Object.entries((data.ExpressionAttributeValues as Json) ?? {}).filter(([v]) => new RegExp(`${v}(?![A-Za-z0-9_])`).test(expression)));
  return {
    ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

/** The unconditional write that applies one action (its condition already held under the lock). */
async function apply(front: Front, action: Action): Promise<Item | undefined> {
  const { data, table, key } = action;
  if (action.kind === 'Put') {
    await front.backend.call('PutItem', { TableName: table, Item: data.Item });
    return data.Item as Item;
  }
  if (action.kind === 'Delete') {
    await front.backend.call('DeleteItem', { TableName: table, Key: key });
    return undefined;
  }
  if (typeof data.UpdateExpression === 'string') {
    await front.backend.call('UpdateItem', { TableName: table, Key: key, UpdateExpression: data.UpdateExpression, ...usedBy(data.UpdateExpression, data) });
  } else {
    await front.backend.call('UpdateItem', { TableName: table, Key: key, ...(data.AttributeUpdates ? { AttributeUpdates: data.AttributeUpdates } : {}) });
  }
  return front.getItem(table, key);
}

function capacity(actions: readonly Action[], images: readonly (Item | undefined)[], factor: number, read: boolean): Json[] {
  const byTable = new Map<string, number>();
  actions.forEach((a, i) => {
    const size = Math.max(1, dynaliteDb.itemSize((images[i] ?? a.key) as Item));
    const units = factor * Math.ceil(size / (read ? 4096 : 1024));
    byTable.set(a.table, (byTable.get(a.table) ?? 0) + units);
  });
  return [...byTable].map(([TableName, CapacityUnits]) =>
    read ? { TableName, CapacityUnits, ReadCapacityUnits: CapacityUnits } : { TableName, CapacityUnits, WriteCapacityUnits: CapacityUnits },
  );
}

const tokens = new Map<string, { fingerprint: string; at: number; reply: Reply }>();

export async function runTransactWrite(front: Front, request: Json): Promise<Reply> {
  const token = typeof request.ClientRequestToken === 'string' ? request.ClientRequestToken : undefined;
  const fingerprint = createHash('sha256').update(JSON.stringify(request.TransactItems ?? null)).digest('hex');
  if (token) {
    const earlier = tokens.get(token);
    if (earlier && front.now() - earlier.at < TOKEN_TTL_MS) {
      if (earlier.fingerprint !== fingerprint) {
        return { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException', Message: 'The request uses the same client token as a previous, but non-identical request.' } };
      }
      return earlier.reply;
    }
  }
  const parsed = await parseActions(front, request.TransactItems);
  if (!Array.isArray(parsed)) return parsed;
  const actions = parsed;
  const reply = await front.lock.write(async (): Promise<Reply> => {
    const olds = await Promise.all(actions.map((a) => front.getItem(a.table, a.key)));
    const failures = actions.map((a, i) => dynaliteDb.checkConditional(a.data, olds[i]));
    if (failures.some(Boolean)) {
      const reasons = actions.map((a, i) =>
        failures[i]
          ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(a.returnOnFailure && olds[i] ? { Item: olds[i] } : {}) }
          : { Code: 'None' },
      );
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          CancellationReasons: reasons,
        },
      };
    }
    // Distinct items and the writer lock held: the writes may go out together.
    const news = await Promise.all(actions.map((action, i) => (action.kind === 'ConditionCheck' ? olds[i] : apply(front, action))));
    actions.forEach((action, i) => {
      if (action.kind !== 'ConditionCheck') front.record(action.table, olds[i], news[i]);
    });
    const writes = actions.filter((a) => a.kind !== 'ConditionCheck');
    const consumed = capacity(writes, news.filter((_, i) => actions[i]?.kind !== 'ConditionCheck'), 2, false);
    const wantsCapacity = request.ReturnConsumedCapacity !== undefined && request.ReturnConsumedCapacity !== 'NONE';
    return { status: 200, body: wantsCapacity ? { ConsumedCapacity: consumed } : {}, consumed };
  });
  if (token && reply.status === 200) tokens.set(token, { fingerprint, at: front.now(), reply });
  return reply;
}

export async function runTransactGet(front: Front, request: Json): Promise<Reply> {
  const items = request.TransactItems;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ACTIONS) {
    return validationError(`TransactItems must hold 1 to ${MAX_ACTIONS} Get actions`);
  }
  const gets: { table: string; key: Item; projection?: Json }[] = [];
  for (const entry of items as Json[]) {
    const get = entry?.Get as Json | undefined;
    if (!get || typeof get.TableName !== 'string' || !get.Key) return validationError('Each TransactItem must be a Get with TableName and Key');
    gets.push({ table: get.TableName, key: get.Key as Item, projection: get });
  }
  return front.lock.read(async () => {
    const responses = await Promise.all(
      gets.map(async (g) => {
        const { Key, TableName, ProjectionExpression, ExpressionAttributeNames } = g.projection as Json;
        const out = await front.backend.call('GetItem', {
          TableName,
          Key,
          ConsistentRead: true,
          ...(ProjectionExpression ? { ProjectionExpression, ...(ExpressionAttributeNames ? { ExpressionAttributeNames } : {}) } : {}),
        });
        return out.Item ? { Item: out.Item } : {};
      }),
    );
    const consumed = capacity(
      gets.map((g) => ({ kind: 'ConditionCheck', table: g.table, key: g.key, data: {}, returnOnFailure: false })),
      responses.map((r) => (r as { Item?: Item }).Item),
      2,
      true,
    );
    return { status: 200, body: { Responses: responses }, consumed };
  });
}
