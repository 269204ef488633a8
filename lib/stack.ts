import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { FUNCTIONS, type Access, type FunctionSpec, type Trigger } from '../shared/spec/functions';
import type { TableId } from '../shared/spec/tables';
import { AccessProvider } from './constructs/access-provider';
import { Alarms } from './constructs/alarms';
import { Auth } from './constructs/auth';
import { Events } from './constructs/events';
import { FanOut } from './constructs/fan-out';
import { HttpApiConstruct } from './constructs/http-api';
import { MediaBucket } from './constructs/media-bucket';
import { Push } from './constructs/push';
import { Tables } from './constructs/tables';
import { DEFAULT_TIMEOUT, TeamFunction } from './constructs/team-function';
import { WebSocketApiConstruct } from './constructs/websocket-api';
import { suppressGrantWildcards } from './nag';
import type { StageConfig } from './stage-config';

export interface RealtimeLayerStackProps extends StackProps {
  /** The validated stage config (lib/stage-config.ts). */
  readonly config: StageConfig;
}

/** The one function spec with this trigger kind (the delivery path has exactly one of each). */
function specOf(kind: Trigger['kind']): FunctionSpec {
  const specs = FUNCTIONS.filter((f) => f.trigger.kind === kind);
  if (specs.length !== 1) throw new Error(`expected one function triggered by ${kind}, found ${specs.length}`);
  return specs[0] as FunctionSpec;
}

function grantTable(table: dynamodb.ITable, access: Access, grantee: iam.IGrantable): void {
  if (access === 'read') table.grantReadData(grantee);
  else if (access === 'write') table.grantWriteData(grantee);
  else table.grantReadWriteData(grantee);
}

/**
 * The realtime layer of one stage. It only wires constructs: every function of
 * shared/spec/functions.ts becomes a TeamFunction with the full environment
 * shared/config.ts validates, its trigger, and exactly the grants its spec lists.
 */
export class RealtimeLayerStack extends Stack {
  /** Functions by spec id. */
  readonly functions: ReadonlyMap<string, TeamFunction>;

  constructor(scope: Construct, id: string, props: RealtimeLayerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { prefix } = config;
    const logs = { logRetention: config.logRetentionDays, retainLogs: config.retain };

    const tables = new Tables(this, 'Tables', { namePrefix: prefix, retain: config.retain });
    const auth = new Auth(this, 'Auth', { userPoolName: `${prefix}-users`, retain: config.retain, ...(config.oidc ? { oidc: config.oidc } : {}) });
    const media = new MediaBucket(this, 'Media', { retain: config.retain, corsOrigins: config.corsOrigins });
    const push = new Push(this, 'Push', { topicName: `${prefix}-push` });
    const events = new Events(this, 'Events', { busName: `${prefix}-events` });
    const fanoutSpec = specOf('fanout-queue');
    if (fanoutSpec.trigger.kind !== 'fanout-queue') throw new Error('the fan-out function must be triggered by the fan-out queue');
    const fanoutTrigger = fanoutSpec.trigger;
    const fanOut = new FanOut(this, 'FanOut', {
      fanoutTimeout: fanoutSpec.timeoutSeconds ? Duration.seconds(fanoutSpec.timeoutSeconds) : DEFAULT_TIMEOUT,
      fanoutBatchSize: fanoutTrigger.batchSize,
      fanoutMaxConcurrency: fanoutTrigger.maxConcurrency,
    });

    // A name, not an ARN reference: the default provider reads this variable too, and
    // its own ARN in its own environment would be a reference cycle.
    const accessProviderName = config.accessProviderArn ?? `${prefix}-${specOf('invoke').id}`;
    const environment: Record<string, string> = {
      STAGE: config.stage,
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
      ACCESS_PROVIDER_FUNCTION: accessProviderName,
      JWT_KIND: auth.kind,
      JWT_ISSUER: auth.issuer,
      JWT_AUDIENCE: auth.audience.join(','),
    };

    const functions = new Map<string, TeamFunction>();
    for (const spec of FUNCTIONS) {
      if (spec.trigger.kind === 'invoke' && config.accessProviderArn) continue;
      functions.set(
        spec.id,
        new TeamFunction(this, spec.id, {
          handlerEntry: spec.entry,
          functionName: `${prefix}-${spec.id}`,
          environment,
          ...logs,
          ...(spec.memoryMb ? { memorySize: spec.memoryMb } : {}),
          ...(spec.timeoutSeconds ? { timeout: Duration.seconds(spec.timeoutSeconds) } : {}),
        }),
      );
    }
    this.functions = functions;
    const fn = (spec: FunctionSpec): TeamFunction => {
      const built = functions.get(spec.id);
      if (!built) throw new Error(`function ${spec.id} was not built`);
      return built;
    };
    const triggered = <K extends Trigger['kind']>(kind: K) =>
      FUNCTIONS.flatMap((spec) => (spec.trigger.kind === kind ? [{ spec, trigger: spec.trigger as Extract<Trigger, { kind: K }> }] : []));

    const accessProvider = new AccessProvider(
      this,
      'AccessDecisions',
      config.accessProviderArn ? { externalArn: config.accessProviderArn } : { defaultFunction: fn(specOf('invoke')) },
    );
    const httpApi = new HttpApiConstruct(this, 'HttpApi', {
      apiName: `${prefix}-http`,
      issuer: auth.issuer,
      audience: auth.audience,
      corsOrigins: config.corsOrigins,
      throttle: config.httpThrottle,
      ...logs,
      routes: triggered('http').map(({ spec, trigger }) => ({ id: spec.id, method: trigger.method, path: trigger.path, handler: fn(spec) })),
    });
    const webSocketApi = new WebSocketApiConstruct(this, 'WebSocketApi', {
      apiName: `${prefix}-ws`,
      stageName: config.stage,
      authorizer: fn(specOf('ws-authorizer')),
      throttle: config.webSocketThrottle,
      ...logs,
      routes: triggered('ws').map(({ spec, trigger }) => ({ id: spec.id, routeKey: trigger.routeKey, handler: fn(spec) })),
    });
    fanOut.connect({ entries: tables.byId.entries, streamRouter: fn(specOf('entries-stream')), fanout: fn(specOf('fanout-queue')) });

    for (const spec of FUNCTIONS) {
      const f = functions.get(spec.id);
      if (!f) continue;
      f.addEnvironment('CONNECTIONS_ENDPOINT', webSocketApi.callbackUrl);
      const { grants } = spec;
      for (const [tableId, access] of Object.entries(grants.tables ?? {}) as [TableId, Access][]) grantTable(tables.byId[tableId], access, f);
      if (grants.fanoutQueue) fanOut.queue.grantSendMessages(f);
      if (grants.connections) webSocketApi.grantManageConnections(f);
      if (grants.mediaBucket) media.grantObjects(f, grants.mediaBucket);
      if (grants.eventBus) events.bus.grantPutEventsTo(f);
      if (grants.pushTopic) push.topic.grantPublish(f);
      if (grants.accessProvider) accessProvider.grantInvoke(f);
    }

    const alarms = new Alarms(this, 'Alarms', {
      topicName: `${prefix}-alarms`,
      functions,
      deadLetterQueues: new Map([
        ['FanoutDeadLetters', fanOut.deadLetterQueue],
        ['StreamFailures', fanOut.streamFailures],
      ]),
      httpApi: httpApi.api,
      webSocketStage: webSocketApi.stage,
      thresholds: config.alarms,
    });

    suppressGrantWildcards(this);

    const output = (outputId: string, value: string, description: string) => new CfnOutput(this, outputId, { value, description });
    output('HttpApiUrl', httpApi.url, 'HTTP API base URL (routes start with /v1)');
    output('WebSocketUrl', webSocketApi.url, 'WebSocket URL (connect with ?token=<JWT>)');
    output('JwtIssuer', auth.issuer, 'Issuer of the tokens both APIs accept');
    output('JwtAudience', auth.audience.join(','), 'Accepted audiences (Cognito: app client ids)');
    if (auth.userPool) output('UserPoolId', auth.userPool.userPoolId, 'Cognito user pool');
    output('AccessProviderFunction', accessProviderName, 'Access-provider function the layer invokes');
    output('EventBusName', events.bus.eventBusName, 'EventBridge bus the layer publishes to');
    output('PushTopicArn', push.topic.topicArn, 'SNS topic for offline push');
    output('AlarmTopicArn', alarms.topic.topicArn, 'Subscribe operators here');
    output('MediaBucketName', media.bucket.bucketName, 'Private media bucket');
  }
}
