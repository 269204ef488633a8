import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tables } from '../../lib/constructs/tables';
import { TABLES, type IndexSpec, type KeyAttribute, type TableSpec } from '../../shared/spec/tables';
import { bareStack, resourcesOf, type CfnResource } from './helpers';

function tablesTemplate(retain: boolean): Record<string, CfnResource> {
  const stack = bareStack();
  new Tables(stack, 'Tables', { namePrefix: 'rtl-test', retain });
  return resourcesOf(Template.fromStack(stack), 'AWS::DynamoDB::Table');
}

let dev: Record<string, CfnResource>;
let prod: Record<string, CfnResource>;

beforeAll(() => {
  dev = tablesTemplate(false);
  prod = tablesTemplate(true);
});

const tableOf = (spec: TableSpec) => {
  const table = Object.values(dev).find((t) => t.Properties.TableName === `rtl-test-${spec.id}`);
  if (!table) throw new Error(`no table rtl-test-${spec.id}`);
  return table.Properties;
};

const keySchema = (partition: KeyAttribute, sort?: KeyAttribute) => [
  { AttributeName: partition.name, KeyType: 'HASH' },
  ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' }] : []),
];

const projection = (p: IndexSpec['projection']) =>
  typeof p === 'string' ? { ProjectionType: p } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p.include] };

describe('Tables: one DynamoDB table per entry of shared/spec/tables.ts', () => {
  it('creates exactly the tables of the spec, named rtl-<stage>-<id>', () => {
    expect(Object.values(dev).map((t) => t.Properties.TableName).sort()).toEqual(TABLES.map((t) => `rtl-test-${t.id}`).sort());
  });

  it.each(TABLES.map((spec) => [spec.id, spec] as const))('gives %s the key schema and attribute types of the spec', (_id, spec) => {
    const props = tableOf(spec);
    expect(props.KeySchema).toEqual(keySchema(spec.partitionKey, spec.sortKey));
    const keys = [spec.partitionKey, spec.sortKey, ...[...(spec.localIndexes ?? []), ...(spec.globalIndexes ?? [])].flatMap((i) => [i.partitionKey, i.sortKey])];
    const expected = new Map(keys.filter((k): k is KeyAttribute => Boolean(k)).map((k) => [k.name, k.type]));
    expect(new Map((props.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((a) => [a.AttributeName, a.AttributeType]))).toEqual(expected);
  });

  it.each(TABLES.map((spec) => [spec.id, spec] as const))('gives %s the local and global indexes of the spec', (_id, spec) => {
    const props = tableOf(spec);
    expect(props.LocalSecondaryIndexes ?? []).toEqual(
      (spec.localIndexes ?? []).map((i) => ({ IndexName: i.indexName, KeySchema: keySchema(spec.partitionKey, i.sortKey), Projection: projection(i.projection) })),
    );
    expect(props.GlobalSecondaryIndexes ?? []).toEqual(
      (spec.globalIndexes ?? []).map((i) => ({
        IndexName: i.indexName,
        KeySchema: keySchema(i.partitionKey ?? spec.partitionKey, i.sortKey),
        Projection: projection(i.projection),
      })),
    );
  });

  it.each(TABLES.map((spec) => [spec.id, spec] as const))('gives %s the TTL attribute and stream view of the spec', (_id, spec) => {
    const props = tableOf(spec);
    expect(props.TimeToLiveSpecification).toEqual(spec.ttlAttribute ? { AttributeName: spec.ttlAttribute, Enabled: true } : undefined);
    expect(props.StreamSpecification).toEqual(spec.stream ? { StreamViewType: spec.stream } : undefined);
  });

  it('bills on demand, keeps point-in-time recovery and encrypts every table', () => {
    for (const table of Object.values(dev)) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
  });

  it('retains tables under deletion protection when asked to (prod)', () => {
    for (const table of Object.values(prod)) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('deletes tables with the stack otherwise (dev)', () => {
    for (const table of Object.values(dev)) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});
