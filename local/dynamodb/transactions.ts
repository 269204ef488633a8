/**
 * TransactWriteItems and TransactGetItems. Each action is validated by dynalite's own
 * validation for the matching single-item operation (ConditionCheck by DeleteItem's:
 * the same key and condition rules). Under the writer lock, every action is first run
 * dry through dynalite's own action — its key, its condition (dynalite's
 * `checkConditional`), the item it would write — and only when all pass is each write
 * applied, through dynalite's PutItem / DeleteItem actions. Nothing is written when
 * any fails, and no reader or writer sees the transaction half-done.
 */
import { createHash } from 'node:crypto';
import {
  dynaliteDb,
  dynamoDbError,
  errorType,
  runAction,
  validate,
  validationError,
  type DynaliteStore,
  type Item,
  type Json,
  type Reply,
} from './dynalite';
import type { DryRun, ObservedStore } from './store';

export interface TransactionHost {
  readonly observed: ObservedStore;
  write<T>(run: () => Promise<T>): Promise<T>;
  read<T>(run: () => Promise<T>): Promise<T>;
  now(): number;
}

/** A reply and the capacity it consumed (for the front's counts, whether or not the caller asked). */
export interface CountedReply {
  readonly reply: Reply;
  readonly consumed: readonly ConsumedCapacity[];
}

export interface ConsumedCapacity {
  readonly TableName: string;
  readonly CapacityUnits: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

type Kind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
const OPERATION_OF: Record<Kind, 'PutItem' | 'UpdateItem' | 'DeleteItem'> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'DeleteItem',
};
const KINDS = Object.keys(OPERATION_OF) as Kind[];
const MAX_ACTIONS = 100;
const TOKEN_TTL_MS = 10 * 60 * 1000;
const CAPACITY_MODES = ['INDEXES', 'TOTAL', 'NONE'];

interface WriteAction {
  readonly kind: Kind;
  readonly table: string;
  /** The validated request, with dynalite's parsed expressions. */
  readonly data: Json;
  readonly returnOldOnFailure: boolean;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function lengthError(count: number): Reply {
  const constraint = count < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ACTIONS}`;
  return validationError(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${constraint}`);
}

function checkCommon(request: Json): Reply | undefined {
  const items = request.TransactItems;
  if (!Array.isArray(items)) return validationError("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null");
  if (items.length < 1 || items.length > MAX_ACTIONS) return lengthError(items.length);
  const mode = request.ReturnConsumedCapacity;
  if (mode !== undefined && !CAPACITY_MODES.includes(mode as string)) {
    return validationError(`1 validation error detected: Value '${String(mode)}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]`);
  }
  return undefined;
}

/** Capacity per table, in request order of first appearance. */
function byTable(units: readonly [string, number][], kind: 'Read' | 'Write', mode: unknown): { all: ConsumedCapacity[]; shown?: Json[] } {
  const totals = new Map<string, number>();
  for (const [table, n] of units) totals.set(table, (totals.get(table) ?? 0) + n);
  const all = [...totals].map(([TableName, CapacityUnits]) => ({ TableName, CapacityUnits, [`${kind}CapacityUnits`]: CapacityUnits }) as ConsumedCapacity);
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return { all };
  const shown = all.map((c) => (mode === 'INDEXES' ? { ...c, Table: { CapacityUnits: c.CapacityUnits, [`${kind}CapacityUnits`]: c.CapacityUnits } } : { ...c }));
  return { all, shown };
}

export class Transactions {
  /** Successful ClientRequestTokens, oldest first. */
  private readonly tokens = new Map<string, { fingerprint: string; at: number; reply: Reply }>();

  constructor(private readonly host: TransactionHost) {}

  private get store(): DynaliteStore {
    return this.host.observed.store;
  }

  /** Each action checked by dynalite's validation for its single-item operation. */
  private parseWrites(items: unknown[]): WriteAction[] | Reply {
    const actions: WriteAction[] = [];
    for (const entry of items) {
      const kinds = isObject(entry) ? KINDS.filter((k) => entry[k] != null) : [];
      const kind = kinds[0];
      if (kinds.length !== 1 || kind === undefined) return validationError('TransactItems can only contain one of Check, Put, Update or Delete');
      const raw = (entry as Json)[kind];
      if (!isObject(raw)) return { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException', Message: 'Unexpected field type' } };
      const onFailure = raw.ReturnValuesOnConditionCheckFailure;
      if (onFailure !== undefined && onFailure !== 'ALL_OLD' && onFailure !== 'NONE') {
        return validationError(`1 validation error detected: Value '${String(onFailure)}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`);
      }
      if (kind === 'ConditionCheck' && typeof raw.ConditionExpression !== 'string') {
        return validationError("1 validation error detected: Value null at 'conditionExpression' failed to satisfy constraint: Member must not be null");
      }
      if (kind === 'Update' && typeof raw.UpdateExpression !== 'string') {
        return validationError("1 validation error detected: Value null at 'updateExpression' failed to satisfy constraint: Member must not be null");
      }
      const { ReturnValuesOnConditionCheckFailure: _onFailure, ReturnValues: _returnValues, ...request } = raw;
      const checked = validate(this.store, OPERATION_OF[kind], request);
      if ('error' in checked) return checked.error;
      actions.push({ kind, table: checked.data.TableName as string, data: checked.data, returnOldOnFailure: onFailure === 'ALL_OLD' });
    }
    return actions;
  }

  async write(request: Json): Promise<CountedReply> {
    const invalid = checkCommon(request);
    if (invalid) return { reply: invalid, consumed: [] };
    const token = request.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length < 1 || token.length > 36)) {
      return { reply: validationError("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36"), consumed: [] };
    }
    const actions = this.parseWrites(request.TransactItems as unknown[]);
    if (!Array.isArray(actions)) return { reply: actions, consumed: [] };
    const fingerprint = createHash('sha256').update(JSON.stringify(request.TransactItems)).digest('hex');

    return this.host.write(async (): Promise<CountedReply> => {
      if (typeof token === 'string') {
        const earlier = this.earlierToken(token);
        if (earlier && earlier.fingerprint !== fingerprint) {
          return { reply: dynamoDbError('IdempotentParameterMismatchException', 'The request uses the same client token as a previous, but non-identical request.'), consumed: [] };
        }
        // The same request again within the window: success, changing nothing.
        if (earlier) return { reply: earlier.reply, consumed: [] };
      }
      const runs = await Promise.all(actions.map((a) => this.host.observed.dryRun(OPERATION_OF[a.kind], a.data)));
      const refused = runs.find((r) => r.error && !r.reachedItem);
      if (refused?.error) return { reply: refused.error, consumed: [] };
      const itemId = (table: string, key: string | undefined) => `${table}\u0000${String(key)}`;
      const rank = new Map(runs.map((run, i) => [itemId((actions[i] as WriteAction).table, run.key), i]));
      if (rank.size < runs.length) return { reply: validationError('Transaction request cannot include multiple operations on one item'), consumed: [] };
      if (runs.some((r) => r.error)) return { reply: cancellation(actions, runs), consumed: [] };

      // Distinct items, all checked, under the writer lock: the writes go together.
      await this.host.observed.reportInOrder(
        () => Promise.all(actions.map((action, i) => this.apply(action, runs[i] as DryRun))),
        (write) => rank.get(itemId(write.table, write.key)) ?? 0,
      );
      const units = actions.map((a, i): [string, number] => {
        const run = runs[i] as DryRun;
        const written = a.kind === 'ConditionCheck' ? 0 : dynaliteDb.capacityUnits(run.newItem, false);
        return [a.table, 2 * Math.max(dynaliteDb.capacityUnits(run.oldItem, false), written)];
      });
      const capacity = byTable(units, 'Write', request.ReturnConsumedCapacity);
      const reply: Reply = { status: 200, body: capacity.shown ? { ConsumedCapacity: capacity.shown } : {} };
      if (typeof token === 'string') this.tokens.set(token, { fingerprint, at: this.host.now(), reply });
      return { reply, consumed: capacity.all };
    });
  }

  /** One checked action, through dynalite's PutItem (the new item the dry run computed) or DeleteItem. */
  private async apply(action: WriteAction, run: DryRun): Promise<void> {
    if (action.kind === 'ConditionCheck') return;
    const applied = run.newItem
      ? await runAction(this.store, 'PutItem', { TableName: action.table, Item: run.newItem })
      : await runAction(this.store, 'DeleteItem', { TableName: action.table, Key: action.data.Key });
    // Checked dry under the same lock: a failure here is a fault, not a refusal.
    if (applied.status !== 200) throw new Error(`transaction apply failed: ${JSON.stringify(applied.body)}`);
  }

  private earlierToken(token: string): { fingerprint: string; reply: Reply } | undefined {
    const horizon = this.host.now() - TOKEN_TTL_MS;
    for (const [t, entry] of this.tokens) {
      if (entry.at >= horizon) break;
      this.tokens.delete(t);
    }
    return this.tokens.get(token);
  }

  async get(request: Json): Promise<CountedReply> {
    const invalid = checkCommon(request);
    if (invalid) return { reply: invalid, consumed: [] };
    const gets: Json[] = [];
    for (const entry of request.TransactItems as unknown[]) {
      const get = isObject(entry) ? entry.Get : undefined;
      if (!isObject(get)) return { reply: validationError("1 validation error detected: Value null at 'transactItems.member.get' failed to satisfy constraint: Member must not be null"), consumed: [] };
      const checked = validate(this.store, 'GetItem', { ...get, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' });
      if ('error' in checked) return { reply: checked.error, consumed: [] };
      gets.push(checked.data);
    }
    return this.host.read(async (): Promise<CountedReply> => {
      const replies = await Promise.all(gets.map((g) => runAction(this.store, 'GetItem', g)));
      const failed = replies.find((r) => r.status !== 200);
      if (failed) return { reply: failed, consumed: [] };
      const units = replies.map((r, i): [string, number] => [(gets[i] as Json).TableName as string, 2 * Number((r.body.ConsumedCapacity as Json).CapacityUnits)]);
      const capacity = byTable(units, 'Read', request.ReturnConsumedCapacity);
      const responses = replies.map((r) => (r.body.Item ? { Item: r.body.Item } : {}));
      return { reply: { status: 200, body: { Responses: responses, ...(capacity.shown ? { ConsumedCapacity: capacity.shown } : {}) } }, consumed: capacity.all };
    });
  }
}

/** TransactionCanceledException in DynamoDB's wire format: one reason per action, in order. */
function cancellation(actions: readonly WriteAction[], runs: readonly DryRun[]): Reply {
  const reasons = runs.map((run, i) => {
    if (!run.error) return { Code: 'None' };
    if (errorType(run.error) === 'ConditionalCheckFailedException') {
      const item = (actions[i] as WriteAction).returnOldOnFailure ? run.oldItem : undefined;
      return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(item ? { Item: item as Item } : {}) };
    }
    return { Code: 'ValidationError', Message: String(run.error.body.message ?? run.error.body.Message ?? '') };
  });
  return {
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    },
  };
}
