import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, type TableId } from '../../shared/spec/tables';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';

const names = Object.fromEntries(TABLES.map((t) => [t.id, `tx-${t.id}`])) as Record<TableId, string>;
const C = names.catalog;
let clock = Date.UTC(2026, 0, 1);
let ddb: LocalDynamoDb;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  ddb = await startLocalDynamoDb({ now: () => clock, ttlSweepIntervalMs: 0 });
  const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  await createTables(client, names);
  doc = DynamoDBDocumentClient.from(client);
});

afterAll(async () => {
  await ddb?.close();
});

type Failure = Error & { CancellationReasons?: { Code?: string; Message?: string; Item?: unknown }[]; $metadata?: { httpStatusCode?: number } };
const transact = (input: TransactWriteCommandInput) => doc.send(new TransactWriteCommand(input));
const failureOf = (input: TransactWriteCommandInput) => transact(input).then(
  () => {
    throw new Error('the transaction succeeded');
  },
  (error: unknown) => error as Failure,
);
const get = async (pk: string, sk: string) => (await doc.send(new GetCommand({ TableName: C, Key: { pk, sk }, ConsistentRead: true }))).Item;

/** A raw JSON-protocol call, to see the wire format itself. */
async function raw(operation: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(ddb.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('TransactWriteItems', () => {
  it('keeps a conditionally incremented counter dense under 20 concurrent writers, writing nothing for a cancelled attempt', async () => {
    const PER_WRITER = 3;
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'counter', sk: 'head', n: 0 } }));
    let cancelled = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, writer) => {
        for (let attempt = 0, done = 0; done < PER_WRITER; attempt++) {
          const n = ((await get('counter', 'head'))?.n as number) + 1;
          try {
            await transact({
              TransactItems: [
                { Update: { TableName: C, Key: { pk: 'counter', sk: 'head' }, UpdateExpression: 'SET n = :n', ConditionExpression: 'n = :old', ExpressionAttributeValues: { ':n': n, ':old': n - 1 } } },
                // Keyed by the attempt, not the value: a cancelled attempt that leaked its put would show as a duplicate value.
                { Put: { TableName: C, Item: { pk: 'counter-values', sk: `${writer}-${attempt}`, n } } },
              ],
            });
            done++;
          } catch (error) {
            expect((error as Failure).name).toBe('TransactionCanceledException');
            cancelled++;
          }
        }
      }),
    );
    const values: number[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new QueryCommand({ TableName: C, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'counter-values' }, ExclusiveStartKey }));
      values.push(...(page.Items ?? []).map((i) => i.n as number));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 * PER_WRITER }, (_, i) => i + 1));
    expect((await get('counter', 'head'))?.n).toBe(20 * PER_WRITER);
    expect(cancelled).toBeGreaterThan(0);
  });

  it('cancels with one reason per action in order, in DynamoDB wire format', async () => {
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'why', sk: 'a', v: 1, label: 'text' } }));
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'why', sk: 'b', v: 1 } }));
    const { status, body } = await raw('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: C, Item: { pk: { S: 'why' }, sk: { S: 'new' } } } },
        { Update: { TableName: C, Key: { pk: { S: 'why' }, sk: { S: 'a' } }, UpdateExpression: 'SET v = :v', ConditionExpression: 'v = :old', ExpressionAttributeValues: { ':v': { N: '2' }, ':old': { N: '7' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
        { ConditionCheck: { TableName: C, Key: { pk: { S: 'why' }, sk: { S: 'b' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: C, Key: { pk: { S: 'why' }, sk: { S: 'a2' } }, UpdateExpression: 'SET v = nowhere + :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
        { Delete: { TableName: C, Key: { pk: { S: 'why' }, sk: { S: 'c' } } } },
      ],
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ConditionalCheckFailed, ValidationError, None]',
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'why' }, sk: { S: 'a' }, v: { N: '1' }, label: { S: 'text' } } },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
        { Code: 'ValidationError', Message: 'The provided expression refers to an attribute that does not exist in the item' },
        { Code: 'None' },
      ],
    });
    expect(await get('why', 'new')).toBeUndefined();
    expect(await get('why', 'a')).toEqual({ pk: 'why', sk: 'a', v: 1, label: 'text' });
    expect(await get('why', 'b')).toEqual({ pk: 'why', sk: 'b', v: 1 });
  });

  it('gives the SDK the reasons and, when asked, the old item', async () => {
    const failure = await failureOf({
      TransactItems: [
        { Put: { TableName: C, Item: { pk: 'why', sk: 'b', v: 2 }, ConditionExpression: 'v = :two', ExpressionAttributeValues: { ':two': 2 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
        { Delete: { TableName: C, Key: { pk: 'why', sk: 'none' }, ConditionExpression: 'attribute_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
      ],
    });
    expect(failure.name).toBe('TransactionCanceledException');
    expect(failure.$metadata?.httpStatusCode).toBe(400);
    expect(failure.CancellationReasons).toEqual([
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: { pk: { S: 'why' }, sk: { S: 'b' }, v: { N: '1' } } },
      // No item to return: the reason carries none.
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
  });

  it('applies every action when all conditions hold', async () => {
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'all', sk: 'gone', v: 1 } }));
    await transact({
      TransactItems: [
        { Put: { TableName: C, Item: { pk: 'all', sk: 'put', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: C, Key: { pk: 'all', sk: 'made' }, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } } },
        { Delete: { TableName: C, Key: { pk: 'all', sk: 'gone' }, ConditionExpression: 'v = :one', ExpressionAttributeValues: { ':one': 1 } } },
        { ConditionCheck: { TableName: C, Key: { pk: 'why', sk: 'a' }, ConditionExpression: 'attribute_exists(pk)' } },
      ],
    });
    expect(await get('all', 'put')).toEqual({ pk: 'all', sk: 'put', v: 1 });
    expect(await get('all', 'made')).toEqual({ pk: 'all', sk: 'made', v: 1 });
    expect(await get('all', 'gone')).toBeUndefined();
  });

  it('reports 2 write capacity units per written item of up to 1 KB when asked', async () => {
    const out = await transact({
      ReturnConsumedCapacity: 'TOTAL',
      TransactItems: [
        { Put: { TableName: C, Item: { pk: 'cap', sk: 'small' } } },
        { Put: { TableName: C, Item: { pk: 'cap', sk: 'big', blob: 'x'.repeat(1500) } } },
        { Put: { TableName: names.entitlements, Item: { pk: 'cap', sk: 'other' } } },
      ],
    });
    expect(out.ConsumedCapacity).toEqual([
      { TableName: C, CapacityUnits: 6, WriteCapacityUnits: 6 },
      { TableName: names.entitlements, CapacityUnits: 2, WriteCapacityUnits: 2 },
    ]);
  });

  it('rejects two actions on one item as a ValidationException, changing nothing', async () => {
    const failure = await failureOf({
      TransactItems: [
        { Put: { TableName: C, Item: { pk: 'dup', sk: 'a' } } },
        { ConditionCheck: { TableName: C, Key: { pk: 'dup', sk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
    });
    expect(failure.name).toBe('ValidationException');
    expect(failure.message).toBe('Transaction request cannot include multiple operations on one item');
    expect(await get('dup', 'a')).toBeUndefined();
  });

  it('rejects more than 100 actions, and none', async () => {
    const many = await failureOf({ TransactItems: Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: C, Item: { pk: 'many', sk: String(i) } } })) });
    expect(many.name).toBe('ValidationException');
    expect(many.message).toMatch(/less than or equal to 100/);
    expect(await get('many', '0')).toBeUndefined();
    const { body } = await raw('TransactWriteItems', { TransactItems: [] });
    expect(body.__type).toBe('com.amazon.coral.validate#ValidationException');
  });

  it('accepts exactly 100 actions', async () => {
    await transact({ TransactItems: Array.from({ length: 100 }, (_, i) => ({ Put: { TableName: C, Item: { pk: 'hundred', sk: String(i) } } })) });
    expect(await get('hundred', '99')).toEqual({ pk: 'hundred', sk: '99' });
  });

  it("refuses an invalid action with dynalite's own validation message for the matching operation", async () => {
    const unused = await failureOf({ TransactItems: [{ Put: { TableName: C, Item: { pk: 'v', sk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: { ':x': 1 } } }] });
    expect(unused.name).toBe('ValidationException');
    expect(unused.message).toBe('Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}');
    const wrongKey = await failureOf({ TransactItems: [{ Delete: { TableName: C, Key: { pk: 'v' } } }] });
    expect(wrongKey.message).toBe('The provided key element does not match the schema');
    const noTable = await failureOf({ TransactItems: [{ Put: { TableName: 'no-such-table', Item: { pk: 'v' } } }] });
    expect(noTable.name).toBe('ResourceNotFoundException');
    const noCondition = await raw('TransactWriteItems', { TransactItems: [{ ConditionCheck: { TableName: C, Key: { pk: { S: 'v' }, sk: { S: 'a' } } } }] });
    expect(noCondition.body.__type).toBe('com.amazon.coral.validate#ValidationException');
    const twoKinds = await raw('TransactWriteItems', { TransactItems: [{ Put: { TableName: C, Item: { pk: { S: 'v' }, sk: { S: 'a' } } }, Delete: { TableName: C, Key: { pk: { S: 'v' }, sk: { S: 'a' } } } }] });
    expect(twoKinds.body.__type).toBe('com.amazon.coral.validate#ValidationException');
    expect(await get('v', 'a')).toBeUndefined();
  });

  it('applies a request again within 10 minutes of its ClientRequestToken only once', async () => {
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'token', sk: 'n', n: 0 } }));
    const bump = (token: string, by = 1) =>
      transact({ ClientRequestToken: token, TransactItems: [{ Update: { TableName: C, Key: { pk: 'token', sk: 'n' }, UpdateExpression: 'ADD n :by', ExpressionAttributeValues: { ':by': by } } }] });
    await bump('token-1');
    await bump('token-1');
    expect((await get('token', 'n'))?.n).toBe(1);
    await expect(bump('token-1', 5)).rejects.toMatchObject({ name: 'IdempotentParameterMismatchException' });
    clock += 10 * 60 * 1000 + 1;
    await bump('token-1');
    expect((await get('token', 'n'))?.n).toBe(2);
  });
});

describe('TransactGetItems', () => {
  it('reads items in request order, an empty response for a missing one', async () => {
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'read', sk: 'a', v: 1 } }));
    const out = await doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: C, Key: { pk: 'read', sk: 'missing' } } },
          { Get: { TableName: C, Key: { pk: 'read', sk: 'a' }, ProjectionExpression: 'v' } },
        ],
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(out.Responses).toEqual([{}, { Item: { v: 1 } }]);
    expect(out.ConsumedCapacity).toEqual([{ TableName: C, CapacityUnits: 4, ReadCapacityUnits: 4 }]);
  });

  it('never sees a transaction half-applied', async () => {
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'account', sk: 'a', balance: 100 } }));
    await doc.send(new PutCommand({ TableName: C, Item: { pk: 'account', sk: 'b', balance: 100 } }));
    const move = (from: string, to: string) =>
      transact({
        TransactItems: [
          { Update: { TableName: C, Key: { pk: 'account', sk: from }, UpdateExpression: 'SET balance = balance - :one', ExpressionAttributeValues: { ':one': 1 } } },
          { Update: { TableName: C, Key: { pk: 'account', sk: to }, UpdateExpression: 'SET balance = balance + :one', ExpressionAttributeValues: { ':one': 1 } } },
        ],
      });
    const totals: number[] = [];
    const read = async () => {
      const out = await doc.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: C, Key: { pk: 'account', sk: 'a' } } }, { Get: { TableName: C, Key: { pk: 'account', sk: 'b' } } }] }));
      totals.push((out.Responses ?? []).reduce((sum, r) => sum + (r.Item?.balance as number), 0));
    };
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? read() : i % 3 === 1 ? move('a', 'b') : move('b', 'a'))));
    expect(totals).toHaveLength(20);
    expect(new Set(totals)).toEqual(new Set([200]));
  });

  it('refuses a read on an unknown table', async () => {
    await expect(doc.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: 'no-such-table', Key: { pk: 'x' } } }] }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('single-item writes beside transactions', () => {
  it('never interleave with one: it sees none of them half-way, and they see all of it or none', async () => {
    for (let round = 0; round < 5; round++) {
      const pk = `race-${round}`;
      const ids = Array.from({ length: 30 }, (_, i) => String(i));
      await Promise.all(ids.map((sk) => doc.send(new PutCommand({ TableName: C, Item: { pk, sk, v: 1 } }))));
      const isOne = { ConditionExpression: 'v = :one', ExpressionAttributeValues: { ':one': 1 } };
      const [tx, ...deletes] = await Promise.allSettled([
        transact({ TransactItems: ids.map((sk) => ({ Update: { TableName: C, Key: { pk, sk }, UpdateExpression: 'SET v = :two', ...isOne, ExpressionAttributeValues: { ':one': 1, ':two': 2 } } })) }),
        ...ids.map((sk) => doc.send(new DeleteCommand({ TableName: C, Key: { pk, sk }, ...isOne }))),
      ]);
      const deleted = deletes.filter((d) => d.status === 'fulfilled').length;
      const left = await doc.send(new QueryCommand({ TableName: C, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ConsistentRead: true }));
      if (tx?.status === 'fulfilled') {
        // Deletes after the transaction find v = 2 and refuse; none can have come before it.
        expect(deleted).toBe(0);
        expect(left.Items?.map((i) => i.v)).toEqual(ids.map(() => 2));
      } else {
        expect(deleted).toBeGreaterThan(0);
        expect(left.Items?.map((i) => i.v)).toEqual(Array.from({ length: 30 - deleted }, () => 1));
      }
    }
  });
});
