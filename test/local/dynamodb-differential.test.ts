import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, type TableId } from '../../shared/spec/tables';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/index';
import { createTableInput } from '../../local/dynamodb/tables';

const require = createRequire(import.meta.url);
const names = Object.fromEntries(TABLES.map((t) => [t.id, `diff-${t.id}`])) as Record<TableId, string>;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let front: LocalDynamoDb;
let plain: Server;
let plainEndpoint: string;

beforeAll(async () => {
  front = await startLocalDynamoDb({ ttlSweepIntervalMs: 0 });
  plain = (require('dynalite') as (options: object) => Server)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  plainEndpoint = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  await createTables(new DynamoDBClient({ endpoint: front.endpoint, region: 'us-east-1', credentials }), names);
  // dynalite alone has no TTL API: the same tables, created directly.
  const plainClient = new DynamoDBClient({ endpoint: plainEndpoint, region: 'us-east-1', credentials });
  for (const spec of TABLES) await plainClient.send(new CreateTableCommand(createTableInput(spec, names[spec.id])));
});

afterAll(async () => {
  await front?.close();
  await new Promise((resolve) => plain?.close(resolve));
});

/** One JSON-protocol call as the SDK makes it; the reply's status and parsed body. */
async function call(endpoint: string, operation: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20260101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? unordered(JSON.parse(text)) : undefined };
}

/** BatchGetItem answers each table's items in no particular order (in AWS too): compare them sorted. */
function unordered(body: { Responses?: Record<string, unknown[]> }): unknown {
  for (const items of Object.values(body.Responses ?? {})) items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return body;
}

const catalogKey = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });
const C = names.catalog;
const E = names.entries;

// Run in order against both: each case sees the state the earlier ones left, on both sides.
const cases: [string, string, unknown][] = [
  ['a put', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'a'), n: { N: '1' }, tags: { SS: ['x', 'y'] } } }],
  ['a put that asks for consumed capacity', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'b'), n: { N: '5' } }, ReturnConsumedCapacity: 'TOTAL' }],
  ['a put returning the old item', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'b'), n: { N: '2' } }, ReturnValues: 'ALL_OLD' }],
  ['a put with an invalid ReturnValues', 'PutItem', { TableName: C, Item: catalogKey('d', 'c'), ReturnValues: 'ALL_NEW' }],
  ['a conditional put that fails', 'PutItem', { TableName: C, Item: catalogKey('d', 'a'), ConditionExpression: 'attribute_not_exists(pk)' }],
  ['a conditional put that holds', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'c'), n: { N: '3' } }, ConditionExpression: 'attribute_not_exists(pk)' }],
  ['a put missing its sort key', 'PutItem', { TableName: C, Item: { pk: { S: 'd' } } }],
  ['a put with a key of the wrong type', 'PutItem', { TableName: E, Item: { stream: { S: 's' }, seq: { S: 'one' } } }],
  ['a put with an index key of the wrong type', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'x'), gsi1pk: { N: '1' } } }],
  ['a put with an empty string key', 'PutItem', { TableName: C, Item: catalogKey('', 'a') }],
  ['a put with an unused expression value', 'PutItem', { TableName: C, Item: catalogKey('d', 'a'), ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':x': { S: 'x' } } }],
  ['a put with a number sent as a JSON number', 'PutItem', { TableName: C, Item: { ...catalogKey('d', 'a'), n: { N: 5 } } }],
  ['an update with an expression', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': { N: '1' } }, ReturnValues: 'ALL_NEW' }],
  ['an update returning the updated old values', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = :n, m = :n', ExpressionAttributeValues: { ':n': { N: '7' } }, ReturnValues: 'UPDATED_OLD' }],
  ['an update that adds to a set', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'ADD tags :t REMOVE m', ExpressionAttributeValues: { ':t': { SS: ['z'] } }, ReturnValues: 'ALL_NEW' }],
  ['an update with a syntax error', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = = 1' }],
  ['an update of a key attribute', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET sk = :v', ExpressionAttributeValues: { ':v': { S: 'b' } } }],
  ['an update adding a string to a number', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = n + :s', ExpressionAttributeValues: { ':s': { S: 'x' } } }],
  ['an update reading a missing attribute', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = nothing + :one', ExpressionAttributeValues: { ':one': { N: '1' } } }],
  ['an update with an undefined name', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET #missing = :one', ExpressionAttributeValues: { ':one': { N: '1' } } }],
  ['an update whose condition fails', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'a'), UpdateExpression: 'SET n = :one', ConditionExpression: 'n = :zero', ExpressionAttributeValues: { ':one': { N: '1' }, ':zero': { N: '0' } } }],
  ['an update creating an item', 'UpdateItem', { TableName: C, Key: catalogKey('d', 'new'), UpdateExpression: 'SET n = if_not_exists(n, :zero)', ExpressionAttributeValues: { ':zero': { N: '0' } }, ReturnValues: 'ALL_NEW' }],
  ['a consistent get with a projection', 'GetItem', { TableName: C, Key: catalogKey('d', 'a'), ConsistentRead: true, ProjectionExpression: 'n, #t', ExpressionAttributeNames: { '#t': 'tags' } }],
  ['a get that asks for consumed capacity', 'GetItem', { TableName: C, Key: catalogKey('d', 'a'), ReturnConsumedCapacity: 'INDEXES' }],
  ['a get that asks for none', 'GetItem', { TableName: C, Key: catalogKey('d', 'a'), ReturnConsumedCapacity: 'NONE' }],
  ['a get with an invalid ReturnConsumedCapacity', 'GetItem', { TableName: C, Key: catalogKey('d', 'a'), ReturnConsumedCapacity: 'SOME' }],
  ['a get of a missing item', 'GetItem', { TableName: C, Key: catalogKey('d', 'none') }],
  ['a get missing its sort key', 'GetItem', { TableName: C, Key: { pk: { S: 'd' } } }],
  ['a get with an extra key attribute', 'GetItem', { TableName: C, Key: { ...catalogKey('d', 'a'), n: { N: '1' } } }],
  ['a get on an unknown table', 'GetItem', { TableName: 'missing-table', Key: { pk: { S: 'x' } } }],
  ['a get with an invalid table name', 'GetItem', { TableName: 'a', Key: { pk: { S: 'x' } } }],
  ['a get without a key', 'GetItem', { TableName: C }],
  ['a query', 'Query', { TableName: C, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'd' } } }],
  ['a query with a filter and a limit', 'Query', { TableName: C, KeyConditionExpression: 'pk = :p AND sk > :s', FilterExpression: 'n > :one', ExpressionAttributeValues: { ':p': { S: 'd' }, ':s': { S: 'a' }, ':one': { N: '1' } }, Limit: 2, ReturnConsumedCapacity: 'TOTAL' }],
  ['a query from a start key, descending', 'Query', { TableName: C, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'd' } }, ExclusiveStartKey: catalogKey('d', 'c'), ScanIndexForward: false }],
  ['a query on a non-key attribute', 'Query', { TableName: C, KeyConditionExpression: 'n = :n', ExpressionAttributeValues: { ':n': { N: '1' } } }],
  ['a query on an unknown index', 'Query', { TableName: C, IndexName: 'nope', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'd' } } }],
  ['a query with a bad key condition', 'Query', { TableName: C, KeyConditionExpression: 'pk BETWEEN :p', ExpressionAttributeValues: { ':p': { S: 'd' } } }],
  ['a delete whose condition fails', 'DeleteItem', { TableName: C, Key: catalogKey('d', 'a'), ConditionExpression: 'n = :x', ExpressionAttributeValues: { ':x': { N: '99' } } }],
  ['a delete returning the old item', 'DeleteItem', { TableName: C, Key: catalogKey('d', 'a'), ReturnValues: 'ALL_OLD', ReturnConsumedCapacity: 'TOTAL' }],
  ['a delete of a missing item', 'DeleteItem', { TableName: C, Key: catalogKey('d', 'a'), ReturnValues: 'ALL_OLD' }],
  ['a delete with a key of the wrong type', 'DeleteItem', { TableName: E, Key: { stream: { S: 's' }, seq: { S: '1' } } }],
  ['a batch write', 'BatchWriteItem', { RequestItems: { [C]: [{ PutRequest: { Item: catalogKey('b', '1') } }, { DeleteRequest: { Key: catalogKey('d', 'b') } }] } }],
  ['a batch write naming one item twice', 'BatchWriteItem', { RequestItems: { [C]: [{ PutRequest: { Item: catalogKey('b', '1') } }, { DeleteRequest: { Key: catalogKey('b', '1') } }] } }],
  ['a batch get', 'BatchGetItem', { RequestItems: { [C]: { Keys: [catalogKey('b', '1'), catalogKey('d', 'c')] } } }],
  ['a body that is not JSON', 'GetItem', '{"TableName":'],
];

describe('single-item calls through the front', () => {
  it.each(cases)('answers %s exactly as dynalite alone does', async (_name, operation, body) => {
    const viaFront = await call(front.endpoint, operation, body);
    const direct = await call(plainEndpoint, operation, body);
    expect(viaFront).toEqual(direct);
  });

  it('leaves both stores holding the same items', async () => {
    const scan = { TableName: C, ConsistentRead: true };
    const [viaFront, direct] = [await call(front.endpoint, 'Scan', scan), await call(plainEndpoint, 'Scan', scan)];
    expect(viaFront).toEqual(direct);
    expect((viaFront.body as { Count: number }).Count).toBeGreaterThan(2);
  });
});
