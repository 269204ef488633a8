/**
 * The whole layer on one machine: AWS-compatible local endpoints, and the same
 * handlers and AWS SDK clients as in AWS, pointed at them through the SDK's own
 * AWS_ENDPOINT_URL_<SERVICE> variables. Handlers run as deployed, bundled, in execution
 * environments of their own (local/functions.ts), started on first use (fast start);
 * nothing here imports aws-cdk-lib, shared/config or shared/clients.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { resolve } from 'node:path';
import { FUNCTIONS } from '../shared/spec/functions';
import { TABLES, type TableId } from '../shared/spec/tables';
import { createHttpApi } from './apigw-http';
import { WebSocketApi, type TimedPost } from './apigw-ws';
import { createClock, type RuntimeClock } from './clock';
import { createTables, startLocalDynamoDb, type LocalDynamoDb } from './dynamodb/index';
import { QueueEventSource, StreamEventSource, type Cadence } from './event-sources';
import { LocalFunctions, type InvocationRecord } from './functions';
import { listen } from './http-util';
import { startLocalS3, type LocalS3 } from './s3';
import { startLocalSinks, type LocalSinks } from './sinks';
import { startLocalSqs, type LocalSqs } from './sqs';
import { createTokenIssuer } from './tokens';

export interface RuntimeOptions {
  /** Default false: data on disk under dataDir survives restarts. */
  readonly memory?: boolean;
  readonly dataDir?: string;
  readonly host?: string;
  /** Default 3000; 0 = ephemeral. */
  readonly httpPort?: number;
  /** Default 3001; 0 = ephemeral. */
  readonly wsPort?: number;
  /** 'instant' for development and tests; 'aws' polls the stream 4×/s like Lambda. */
  readonly cadence?: Cadence;
  /** One JSON line per request and per event on stdout. */
  readonly logRequests?: boolean;
  /** Visibility timeout of the fan-out queue, seconds (default 30). */
  readonly fanoutVisibilitySeconds?: number;
}

export interface RuntimeEndpoints {
  http: string;
  ws: string;
  dynamodb: string;
  dynamodb_streams: string;
  sqs: string;
  s3: string;
  connections: string;
  events: string;
  sns: string;
  lambda: string;
}

export interface Runtime {
  readonly endpoints: RuntimeEndpoints;
  readonly tableNames: Record<TableId, string>;
  readonly queues: { fanout: string; fanoutDlq: string; streamFailures: string };
  token(sub: string, groups?: string[], options?: { expiresInSeconds?: number }): Promise<string>;
  readonly clock: RuntimeClock;
  readonly dynamodb: LocalDynamoDb;
  readonly sqs: LocalSqs;
  readonly s3: LocalS3;
  readonly sinks: LocalSinks;
  readonly connections: {
    count(): number;
    failNext(n: number): void;
    posted(): number;
    addVirtual(ids: readonly string[]): void;
    checkLimits(): void;
    /** Calls `listener` with each frame written to a live socket until the returned function is called. */
    onPost(listener: (post: TimedPost) => void): () => void;
  };
  invocations(): Record<string, number>;
  /** Answers Invoke calls for `name` with a stand-in until the returned function is called (fault injection). */
  standIn(name: string, fn: (event: unknown) => Promise<unknown>): () => void;
  /** Switches the stream poller's cadence. */
  setCadence(cadence: Cadence): void;
  /**
   * Holds stream records back from the stream router until the returned function is called
   * (as disabling the event source mapping does): lets the bench count one operation's own
   * requests without the delivery it triggers.
   */
  pauseStream(): () => void;
  onInvocation(listener: (record: InvocationRecord) => void): () => void;
  /** Resolves once the stream and the fan-out queue are drained and no handler runs. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Execution environments per function: enough for invocations to overlap, few enough for a laptop's memory. */
const FUNCTION_ENVIRONMENTS = 4;
const REGION = 'us-east-1';
const AUDIENCE = 'realtime-layer';

/** Kebab-case names for Invoke: AccessProvider → access-provider. */
const invokeName = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const host = options.host ?? '127.0.0.1';
  const clock = createClock();
  const log = options.logRequests ? (entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...entry })}\n`) : () => undefined;
  const dataDir = options.memory ? undefined : resolve(options.dataDir ?? '.local');

  const [dynamodb, sqs, s3, sinks] = await Promise.all([
    startLocalDynamoDb({ host, now: clock.now, ...(dataDir ? { path: resolve(dataDir, 'dynamodb') } : {}) }),
    startLocalSqs({ host, now: clock.now }),
    startLocalS3({ host, now: clock.now, credentials: CREDENTIALS, region: REGION }),
    startLocalSinks({ host, now: clock.now }),
  ]);

  const functions = new LocalFunctions({ clockOffset: clock.offsetBuffer, maxEnvironments: FUNCTION_ENVIRONMENTS });
  const wsApi = new WebSocketApi({ functions, clock, log });
  const invokable = new Map(FUNCTIONS.filter((f) => f.trigger.kind === 'invoke').map((f) => [invokeName(f.id), (event: unknown) => functions.invoke(f.id, event)]));
  // Fault injection for tests: a function name answered by a stand-in (down, slow, garbage).
  const standIns = new Map<string, (event: unknown) => Promise<unknown>>();
  // One structured line per event-source and Invoke invocation (HTTP and WebSocket log their own).
  functions.onInvocation((r) => {
    if (!FUNCTIONS.some((f) => f.id === r.functionId && (f.trigger.kind === 'http' || f.trigger.kind === 'ws' || f.trigger.kind === 'ws-authorizer'))) {
      log({ kind: 'invoke', function: r.functionId, failed: r.failed, ms: Math.round((r.endedAt - r.startedAt) * 10) / 10 });
    }
  });

  // Assigned once the ports are known; until then the HTTP port answers 503.
  const late: { httpHandler?: ReturnType<typeof createHttpApi> } = {};
  const connectionsServer = await listen((req, res) => wsApi.handleManagement(req, res), { host });
  const httpServer = await listen(
    async (req, res) => {
      if (!late.httpHandler) return void res.writeHead(503).end();
      await late.httpHandler(req, res);
    },
    { host, port: options.httpPort ?? 3000 },
  );
  const wsServer = await listen(async (_req, res) => void res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required'), { host, port: options.wsPort ?? 3001 });
  wsApi.attach(wsServer.server);
  wsApi.domainName = new URL(wsServer.url).host;

  const issuer = createTokenIssuer(`${httpServer.url}/_local`, AUDIENCE);
  const endpoints: RuntimeEndpoints = {
    http: httpServer.url,
    ws: wsServer.url.replace(/^http/, 'ws'),
    dynamodb: dynamodb.endpoint,
    dynamodb_streams: dynamodb.endpoint,
    sqs: sqs.endpoint,
    s3: s3.endpoint,
    connections: connectionsServer.url,
    events: sinks.eventsEndpoint,
    sns: sinks.snsEndpoint,
    lambda: httpServer.url,
  };
  late.httpHandler = createHttpApi({
    functions,
    issuer,
    clock,
    endpoints: () => ({ ...endpoints }),
    events: sinks.events,
    pushes: sinks.pushes,
    invokable: (name) => standIns.get(name) ?? invokable.get(name),
    log,
  });

  const tableNames = Object.fromEntries(TABLES.map((t) => [t.id, `local-${t.id}`])) as Record<TableId, string>;
  const clientConfig = { region: REGION, credentials: CREDENTIALS };
  const ddbClient = new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.endpoint });
  const sqsClient = new SQSClient({ ...clientConfig, endpoint: sqs.endpoint });
  await createTables(ddbClient, tableNames);
  const fanoutDlq = (await sqsClient.send(new CreateQueueCommand({ QueueName: 'local-fanout-dlq' }))).QueueUrl as string;
  const streamFailures = (await sqsClient.send(new CreateQueueCommand({ QueueName: 'local-stream-failures' }))).QueueUrl as string;
  const fanout = (
    await sqsClient.send(
      new CreateQueueCommand({
        QueueName: 'local-fanout',
        Attributes: {
          VisibilityTimeout: String(options.fanoutVisibilitySeconds ?? 30),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:local-fanout-dlq', maxReceiveCount: 5 }),
        },
      }),
    )
  ).QueueUrl as string;
  const bucket = 'local-media';
  const s3Client = new S3Client({ ...clientConfig, endpoint: s3.endpoint, forcePathStyle: true });
  await s3Client.send(new CreateBucketCommand({ Bucket: bucket }));
  s3Client.destroy();

  // Same code everywhere: the handlers read only configuration, and the SDK its own endpoint variables.
  functions.environment = {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Lambda runs Node 22; the SDK's warning about an older host Node is the runtime's own (once), not every environment's.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: sinks.eventsEndpoint,
    AWS_ENDPOINT_URL_SNS: sinks.snsEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: httpServer.url,
    S3_FORCE_PATH_STYLE: 'true',
    STAGE: 'local',
    TABLE_CATALOG: tableNames.catalog,
    TABLE_ENTRIES: tableNames.entries,
    TABLE_CONNECTIONS: tableNames.connections,
    TABLE_IDEMPOTENCY: tableNames.idempotency,
    TABLE_ENTITLEMENTS: tableNames.entitlements,
    FANOUT_QUEUE_URL: fanout,
    CONNECTIONS_ENDPOINT: connectionsServer.url,
    MEDIA_BUCKET: bucket,
    MEDIA_MAX_BYTES: process.env.MEDIA_MAX_BYTES ?? String(25 * 1024 * 1024),
    MEDIA_CONTENT_TYPES: process.env.MEDIA_CONTENT_TYPES ?? 'image/png,image/jpeg,image/gif,image/webp,application/pdf,video/mp4',
    EVENT_BUS_NAME: 'local-bus',
    PUSH_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:local-push',
    ACCESS_PROVIDER_FUNCTION: 'access-provider',
    JWT_KIND: 'oidc',
    JWT_ISSUER: issuer.issuer,
    JWT_AUDIENCE: AUDIENCE,
    JWT_JWKS_URI: `${issuer.issuer}/.well-known/jwks.json`,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_SERVICE_NAME: process.env.POWERTOOLS_SERVICE_NAME ?? 'realtime-layer-local',
  };

  const streamRouter = FUNCTIONS.find((f) => f.trigger.kind === 'entries-stream');
  const fanoutFunction = FUNCTIONS.find((f) => f.trigger.kind === 'fanout-queue');
  const streamsClient = new DynamoDBStreamsClient({ ...clientConfig, endpoint: dynamodb.endpoint });
  const streamSource = streamRouter
    ? new StreamEventSource({
        dynamodb: ddbClient,
        streams: streamsClient,
        sqs: sqsClient,
        tableName: tableNames.entries,
        invoke: (event) => functions.invoke(streamRouter.id, event),
        onFailureQueueUrl: streamFailures,
        log,
      }, options.cadence ?? 'instant')
    : undefined;
  const queueSource =
    fanoutFunction?.trigger.kind === 'fanout-queue'
      ? new QueueEventSource({
          sqs: sqsClient,
          queueUrl: fanout,
          queueArn: 'arn:aws:sqs:us-east-1:000000000000:local-fanout',
          invoke: (event) => functions.invoke(fanoutFunction.id, event),
          batchSize: fanoutFunction.trigger.batchSize,
          // As many pollers as the function has local environments: more could only queue.
          concurrency: Math.min(fanoutFunction.trigger.maxConcurrency, FUNCTION_ENVIRONMENTS),
          log,
        })
      : undefined;
  streamSource?.start();
  queueSource?.start();

  const settled = () => {
    const queue = sqs.stats().byQueue['local-fanout'];
    return (
      (!streamSource || (!streamSource.busy && streamSource.processed >= dynamodb.latestSequence(tableNames.entries))) &&
      (!queue || (queue.visible === 0 && queue.inFlight === 0)) &&
      (queueSource?.inFlight ?? 0) === 0 &&
      functions.running === 0
    );
  };

  return {
    endpoints,
    tableNames,
    queues: { fanout, fanoutDlq, streamFailures },
    clock,
    dynamodb,
    sqs,
    s3,
    sinks,
    async token(sub, groups = [], tokenOptions = {}) {
      return issuer.sign(sub, groups, tokenOptions.expiresInSeconds ?? 3600, clock.now());
    },
    connections: {
      count: () => wsApi.count(),
      failNext: (n) => wsApi.failNext(n),
      posted: () => wsApi.posted(),
      addVirtual: (ids) => wsApi.addVirtual(ids),
      checkLimits: () => wsApi.checkLimits(),
      onPost: (listener) => {
        wsApi.postListeners.add(listener);
        return () => wsApi.postListeners.delete(listener);
      },
    },
    invocations: () => ({ ...functions.counts }),
    standIn: (name, fn) => {
      standIns.set(name, fn);
      return () => standIns.delete(name);
    },
    setCadence: (cadence) => {
      if (streamSource) streamSource.cadence = cadence;
    },
    pauseStream: () => {
      if (streamSource) streamSource.paused = true;
      return () => {
        if (streamSource) streamSource.paused = false;
      };
    },
    onInvocation: (listener) => functions.onInvocation(listener),
    async idle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      // Two settled checks in a row: a handler may enqueue work just as the first one passes.
      let streak = 0;
      while (streak < 2) {
        if (Date.now() > deadline) throw new Error('runtime did not become idle');
        streak = settled() ? streak + 1 : 0;
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async stop() {
      await Promise.all([streamSource?.stop(), queueSource?.stop()]);
      await wsApi.close();
      await Promise.all([httpServer.close(), wsServer.close(), connectionsServer.close()]);
      await Promise.all([sqs.close(), s3.close(), sinks.close()]);
      await functions.stop();
      await dynamodb.close();
      ddbClient.destroy();
      sqsClient.destroy();
      streamsClient.destroy();
    },
  };
}
