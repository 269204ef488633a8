/**
 * The tables of shared/spec/tables.ts as DynamoDB API calls: the same CreateTable
 * input in AWS and locally, then TTL where the spec names an attribute.
 */
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type IndexSpec, type KeyAttribute, type TableId, type TableSpec } from '../../shared/spec/tables';

function keySchema(partition: KeyAttribute, sort?: KeyAttribute): KeySchemaElement[] {
  return [{ AttributeName: partition.name, KeyType: 'HASH' }, ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' as const }] : [])];
}

function projection(p: IndexSpec['projection']): Projection {
  return typeof p === 'string' ? { ProjectionType: p } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p.include] };
}

/** The CreateTable request for one table of the spec under its physical name. */
export function createTableInput(spec: TableSpec, name: string): CreateTableCommandInput {
  const attributes = new Map<string, KeyAttribute['type']>();
  const indexes = [...(spec.localIndexes ?? []), ...(spec.globalIndexes ?? [])];
  for (const a of [spec.partitionKey, spec.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (a) attributes.set(a.name, a.type);
  }
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(spec.localIndexes?.length
      ? { LocalSecondaryIndexes: spec.localIndexes.map((i) => ({ IndexName: i.indexName, KeySchema: keySchema(spec.partitionKey, i.sortKey), Projection: projection(i.projection) })) }
      : {}),
    ...(spec.globalIndexes?.length
      ? {
          GlobalSecondaryIndexes: spec.globalIndexes.map((i) => ({
            IndexName: i.indexName,
            KeySchema: keySchema(i.partitionKey ?? spec.partitionKey, i.sortKey),
            Projection: projection(i.projection),
          })),
        }
      : {}),
    ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } } : {}),
  };
}

/**
 * Creates every table in TABLES under the given names, with its stream, and enables TTL
 * where the spec names an attribute. Tables that exist are left as they are (TTL is
 * still enabled on them if it is not yet).
 */
export async function createTables(client: DynamoDBClient, names: Record<TableId, string>): Promise<void> {
  for (const spec of TABLES) {
    const TableName = names[spec.id];
    try {
      await client.send(new CreateTableCommand(createTableInput(spec, TableName)));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
    if (!spec.ttlAttribute) continue;
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName }));
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') continue;
    await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute } }));
  }
}
