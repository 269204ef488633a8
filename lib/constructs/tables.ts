import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLES, type IndexSpec, type KeyAttribute, type TableId } from '../../shared/spec/tables';

export interface TablesProps {
  /** Prefix of every physical table name, e.g. `rtl-prod`. */
  readonly namePrefix: string;
  /** Retain tables and turn on deletion protection (production). */
  readonly retain: boolean;
}

const attribute = (a: KeyAttribute): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

const projection = (p: IndexSpec['projection']) =>
  typeof p === 'string'
    ? { projectionType: p === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY }
    : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...p.include] };

/**
 * Every table of shared/spec/tables.ts: on-demand, point-in-time recovery, encrypted,
 * with the spec's indexes, TTL attribute and stream (the local runtime builds from the
 * same spec).
 */
export class Tables extends Construct {
  readonly byId: Record<TableId, dynamodb.Table>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const entries = TABLES.map((spec) => {
      const table = new dynamodb.Table(this, spec.id, {
        tableName: `${props.namePrefix}-${spec.id}`,
        partitionKey: attribute(spec.partitionKey),
        ...(spec.sortKey ? { sortKey: attribute(spec.sortKey) } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: props.retain,
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
        ...(spec.stream ? { stream: dynamodb.StreamViewType[spec.stream] } : {}),
      });
      for (const index of spec.localIndexes ?? []) {
        table.addLocalSecondaryIndex({ indexName: index.indexName, sortKey: attribute(index.sortKey), ...projection(index.projection) });
      }
      for (const index of spec.globalIndexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: attribute(index.partitionKey ?? spec.partitionKey),
          sortKey: attribute(index.sortKey),
          ...projection(index.projection),
        });
      }
      return [spec.id, table] as const;
    });
    this.byId = Object.fromEntries(entries) as Record<TableId, dynamodb.Table>;
  }
}
