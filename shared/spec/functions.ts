/**
 * The one catalogue of Lambda functions: which handler file, which trigger, which
 * resources it may touch. The CDK stack builds functions, routes and least-privilege
 * grants from it; the local runtime routes HTTP and WebSocket traffic and event
 * sources to the same handler files from it. Plain data only (no aws-cdk-lib).
 */
import type { TableId } from './tables';

export type Access = 'read' | 'write' | 'readwrite';

export interface FunctionGrants {
  readonly tables?: Partial<Record<TableId, Access>>;
  /** May send to the fan-out queue. */
  readonly fanoutQueue?: boolean;
  /** May post to / delete WebSocket connections (@connections). */
  readonly connections?: boolean;
  readonly mediaBucket?: Access;
  readonly eventBus?: boolean;
  readonly pushTopic?: boolean;
  readonly accessProvider?: boolean;
}

export type Trigger =
  | { readonly kind: 'http'; readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; readonly path: string }
  | { readonly kind: 'ws'; readonly routeKey: string }
  | { readonly kind: 'ws-authorizer' }
  | { readonly kind: 'entries-stream' }
  | {
      readonly kind: 'fanout-queue';
      /** Messages per invocation. One: a big audience's messages are posted by invocations side by side, not one after another. */
      readonly batchSize: number;
      /** Invocations at most, across the whole stage. */
      readonly maxConcurrency: number;
    }
  | { readonly kind: 'invoke' };

export interface FunctionSpec {
  /** Stable id: construct id, function-name suffix, and `lambdas/<entry>.ts`. */
  readonly id: string;
  readonly entry: string;
  readonly trigger: Trigger;
  readonly grants: FunctionGrants;
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

const CHANNEL = '/v1/channels/{channel_id}';
const POST = `${CHANNEL}/posts/{post_id}`;

export const FUNCTIONS: readonly FunctionSpec[] = [
  // WebSocket API. Route handlers answer through the route response (returnResponse).
  { id: 'WsAuthorizer', entry: 'ws/authorizer', trigger: { kind: 'ws-authorizer' }, grants: {} },
  { id: 'WsConnect', entry: 'ws/connect', trigger: { kind: 'ws', routeKey: '$connect' }, grants: { tables: { connections: 'write' } } },
  {
    id: 'WsDisconnect',
    entry: 'ws/disconnect',
    trigger: { kind: 'ws', routeKey: '$disconnect' },
    grants: { tables: { connections: 'readwrite' } },
  },
  { id: 'WsDefault', entry: 'ws/default', trigger: { kind: 'ws', routeKey: '$default' }, grants: {} },
  { id: 'WsPing', entry: 'ws/ping', trigger: { kind: 'ws', routeKey: 'ping' }, grants: { tables: { connections: 'write' } } },
  {
    id: 'WsSubscribe',
    entry: 'ws/subscribe',
    trigger: { kind: 'ws', routeKey: 'subscribe' },
    grants: { tables: { catalog: 'read', entries: 'read', connections: 'readwrite' }, connections: true, accessProvider: true },
  },
  {
    id: 'WsUnsubscribe',
    entry: 'ws/unsubscribe',
    trigger: { kind: 'ws', routeKey: 'unsubscribe' },
    grants: { tables: { connections: 'readwrite' } },
  },

  // HTTP API: broadcast channels
  {
    id: 'ChannelsCreate',
    entry: 'http/channels-create',
    trigger: { kind: 'http', method: 'POST', path: '/v1/channels' },
    grants: { tables: { catalog: 'write' } },
  },
  {
    id: 'ChannelsGet',
    entry: 'http/channels-get',
    trigger: { kind: 'http', method: 'GET', path: CHANNEL },
    grants: { tables: { catalog: 'read' } },
  },
  {
    id: 'PostsPublish',
    entry: 'http/posts-publish',
    trigger: { kind: 'http', method: 'POST', path: `${CHANNEL}/posts` },
    grants: { tables: { catalog: 'readwrite', entries: 'write', idempotency: 'readwrite' }, mediaBucket: 'read' },
  },
  {
    id: 'PostsList',
    entry: 'http/posts-list',
    trigger: { kind: 'http', method: 'GET', path: `${CHANNEL}/posts` },
    grants: { tables: { catalog: 'read', entries: 'read' }, accessProvider: true },
  },
  {
    id: 'PostsGet',
    entry: 'http/posts-get',
    trigger: { kind: 'http', method: 'GET', path: POST },
    grants: { tables: { catalog: 'read', entries: 'read' }, accessProvider: true },
  },
  {
    id: 'PostsEdit',
    entry: 'http/posts-edit',
    trigger: { kind: 'http', method: 'PATCH', path: POST },
    grants: { tables: { catalog: 'readwrite', entries: 'readwrite' } },
  },
  {
    id: 'PostsDelete',
    entry: 'http/posts-delete',
    trigger: { kind: 'http', method: 'DELETE', path: POST },
    grants: { tables: { catalog: 'readwrite', entries: 'readwrite' } },
  },
  {
    id: 'ChangesList',
    entry: 'http/changes-list',
    trigger: { kind: 'http', method: 'GET', path: `${CHANNEL}/changes` },
    grants: { tables: { catalog: 'read', entries: 'read' }, accessProvider: true },
  },

  // HTTP API: media
  {
    id: 'MediaCreate',
    entry: 'http/media-create',
    trigger: { kind: 'http', method: 'POST', path: '/v1/media' },
    grants: { tables: { catalog: 'readwrite' }, mediaBucket: 'write', accessProvider: true },
  },
  {
    id: 'AttachmentGet',
    entry: 'http/attachment-get',
    trigger: { kind: 'http', method: 'GET', path: `${POST}/attachments/{media_id}` },
    grants: { tables: { catalog: 'read', entries: 'read' }, mediaBucket: 'read', accessProvider: true },
  },

  // Delivery path: entries stream (the outbox) -> fan-out queue -> @connections.
  {
    id: 'StreamRouter',
    entry: 'stream-router',
    trigger: { kind: 'entries-stream' },
    grants: { tables: { catalog: 'read', connections: 'readwrite' }, fanoutQueue: true, eventBus: true, accessProvider: true },
    timeoutSeconds: 60,
  },
  {
    id: 'Fanout',
    entry: 'fanout',
    trigger: { kind: 'fanout-queue', batchSize: 1, maxConcurrency: 50 },
    grants: { tables: { connections: 'readwrite' }, connections: true },
    timeoutSeconds: 30,
  },

  // The default access provider (replaced by an external function when stage config names one).
  {
    id: 'AccessProvider',
    entry: 'access-provider',
    trigger: { kind: 'invoke' },
    grants: { tables: { entitlements: 'readwrite' } },
  },
];

export function functionSpec(id: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.id === id);
  if (!spec) throw new Error(`unknown function ${id}`);
  return spec;
}
