import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTIONS, type Access, type FunctionSpec } from '../shared/spec/functions';
import type { TableId } from '../shared/spec/tables';
import { AccessProvider } from './constructs/access-provider';
import { Alarms } from './constructs/alarms';
import { Auth } from './constructs/auth';
import { FanOut } from './constructs/fan-out';
import { HttpApiConstruct } from './constructs/http-api';
import { MediaBucket } from './constructs/media-bucket';
import { Events, Push } from './constructs/messaging';
import { Tables } from './constructs/tables';
import { TeamFunction } from './constructs/team-function';
import { WebSocketApiConstruct } from './constructs/websocket-api';
import type { StageConfig } from './stage-config';

export interface RealtimeLayerStackProps extends StackProps {
  readonly config: StageConfig;
}

const RETENTION: Record<StageConfig['logRetentionDays'], logs.RetentionDays> = {
  7: logs.RetentionDays.ONE_WEEK,
  30: logs.RetentionDays.ONE_MONTH,
  90: logs.RetentionDays.THREE_MONTHS,
  365: logs.RetentionDays.ONE_YEAR,
};

function grantTable(table: dynamodb.ITable, access: Access, grantee: iam.IGrantable): void {
  if (access === 'read') table.grantReadData(grantee);
  else if (access === 'write') table.grantWriteData(grantee);
  else table.grantReadWriteData(grantee);
}

function grantBucket(bucket: s3.IBucket, access: Access, grantee: iam.IGrantable): void {
  if (access !== 'write') bucket.grantRead(grantee);
  if (access !== 'read') bucket.grantPut(grantee);
}

/** The realtime layer of one stage. It only wires constructs; each construct owns its concern. */
export class RealtimeLayerStack extends Stack {
  readonly functions = new Map<string, lambda.Function>();

  constructor(scope: Construct, id: string, props: RealtimeLayerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = `rtl-${config.stage}`;
    const retention = RETENTION[config.logRetentionDays];

    const tables = new Tables(this, 'Tables', { namePrefix: prefix, retain: config.retain });
    const auth = new Auth(this, 'Auth', { ...(config.oidc ? { oidc: config.oidc } : {}), retain: config.retain });
    const media = new MediaBucket(this, 'Media', { retain: config.retain, allowedOrigins: ['*'] });
    const push = new Push(this, 'Push', { topicName: `${prefix}-push` });
    const events = new Events(this, 'Events', { busName: `${prefix}-events` });
    const fanoutSpec = FUNCTIONS.find((f) => f.trigger.kind === 'fanout-queue') as FunctionSpec;
    const fanOut = new FanOut(this, 'FanOut', { fanoutTimeout: Duration.seconds(fanoutSpec.timeoutSeconds ?? 10) });

    const environment: Record<string, string> = {
      STAGE: config.stage,
      POWERTOOLS_SERVICE_NAME: 'realtime-layer',
      TABLE_CATALOG: tables.byId.catalog.tableName,
      TABLE_ENTRIES: tables.byId.entries.tableName,
      TABLE_CONNECTIONS: tables.byId.connections.tableName,
      TABLE_IDEMPOTENCY: tables.byId.idempotency.tableName,
      TABLE_ENTITLEMENTS: tables.byId.entitlements.tableName,
      FANOUT_QUEUE_URL: fanOut.queue.queueUrl,
      MEDIA_BUCKET: media.bucket.bucketName,
      MEDIA_MAX_BYTES: String(config.mediaMaxBytes),
      MEDIA_CONTENT_TYPES: config.mediaContentTypes.join(','),
      EVENT_BUS_NAME: events.bus.eventBusName,
      PUSH_TOPIC_ARN: push.topic.topicArn,
      JWT_KIND: auth.kind,
      JWT_ISSUER: auth.issuer,
      JWT_AUDIENCE: auth.audience.join(','),
    };

    const defaultProviderName = `${prefix}-access-provider`;
    for (const spec of FUNCTIONS) {
      if (spec.trigger.kind === 'invoke' && config.accessProviderArn) continue;
      this.functions.set(
        spec.id,
        new TeamFunction(this, spec.id, {
          handlerEntry: spec.entry,
          logRetention: retention,
          retainLogs: config.retain,
          environment,
          ...(spec.memoryMb ? { memorySize: spec.memoryMb } : {}),
          ...(spec.timeoutSeconds ? { timeout: Duration.seconds(spec.timeoutSeconds) } : {}),
          // A fixed name lets every function (the provider too) name it without a reference cycle.
          ...(spec.trigger.kind === 'invoke' ? { functionName: defaultProviderName } : {}),
        }),
      );
    }
    const fn = (kind: FunctionSpec['trigger']['kind']) => this.functions.get((FUNCTIONS.find((f) => f.trigger.kind === kind) as FunctionSpec).id) as lambda.Function;

    const provider = new AccessProvider(this, 'AccessDecisions', {
      ...(config.accessProviderArn ? { externalArn: config.accessProviderArn } : { defaultFunction: fn('invoke') }),
    });

    const httpApi = new HttpApiConstruct(this, 'HttpApi', {
      apiName: `${prefix}-http`,
      issuer: auth.issuer,
      audience: auth.audience,
      logRetention: retention,
      routes: FUNCTIONS.flatMap((f) => (f.trigger.kind === 'http' ? [{ method: f.trigger.method, path: f.trigger.path, handler: this.functions.get(f.id) as lambda.Function }] : [])),
    });
    const wsApi = new WebSocketApiConstruct(this, 'WebSocketApi', {
      apiName: `${prefix}-ws`,
      stageName: config.stage,
      authorizer: fn('ws-authorizer'),
      logRetention: retention,
      routes: new Map(FUNCTIONS.flatMap((f) => (f.trigger.kind === 'ws' ? [[f.trigger.routeKey, this.functions.get(f.id) as lambda.Function] as const] : []))),
    });
    fanOut.wire({ entries: tables.byId.entries, streamRouter: fn('entries-stream'), fanout: fn('fanout-queue') });

    for (const spec of FUNCTIONS) {
      const f = this.functions.get(spec.id);
      if (!f) continue;
      f.addEnvironment('CONNECTIONS_ENDPOINT', wsApi.stage.callbackUrl);
      f.addEnvironment('ACCESS_PROVIDER_FUNCTION', config.accessProviderArn ?? defaultProviderName);
      const { grants } = spec;
      for (const [tableId, access] of Object.entries(grants.tables ?? {}) as [TableId, Access][]) grantTable(tables.byId[tableId], access, f);
      if (grants.fanoutQueue) fanOut.queue.grantSendMessages(f);
      if (grants.connections) {
        f.addToRolePolicy(new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: wsApi.manageConnectionsArns() }));
      }
      if (grants.mediaBucket) grantBucket(media.bucket, grants.mediaBucket, f);
      if (grants.eventBus) events.bus.grantPutEventsTo(f);
      if (grants.pushTopic) push.topic.grantPublish(f);
      if (grants.accessProvider) provider.grantInvoke(f);
    }

    new Alarms(this, 'Alarms', {
      functions: this.functions,
      deadLetterQueues: new Map([
        ['FanoutDlq', fanOut.deadLetterQueue],
        ['StreamFailures', fanOut.streamFailures],
      ]),
      httpApi: httpApi.api,
      webSocketApi: wsApi.api,
      webSocketStage: config.stage,
      thresholds: config.alarms,
    });
  }
}
