import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config';
import { FUNCTIONS, type Access, type FunctionSpec } from '../../shared/spec/functions';
import { TABLES, type TableId } from '../../shared/spec/tables';
import { actionsOf, logicalIdOf, resourcesOf, statementsOfRole, synthStage, type Statement, type Synthesized } from './helpers';

const EXTERNAL_PROVIDER = 'arn:aws:lambda:us-east-1:123456789012:function:billing-access';

let dev: Synthesized;
let prod: Synthesized;
let external: Synthesized;

beforeAll(() => {
  dev = synthStage({ stage: 'dev' }, { nag: true });
  prod = synthStage({ stage: 'prod' }, { nag: true });
  external = synthStage({ stage: 'dev', oidcIssuer: 'https://issuer.example.com', oidcAudience: 'app-a,app-b', accessProviderArn: EXTERNAL_PROVIDER });
});

const functionOf = (s: Synthesized, spec: FunctionSpec) => {
  const fn = s.stack.functions.get(spec.id);
  if (!fn) throw new Error(`no function ${spec.id}`);
  return { id: logicalIdOf(fn), role: logicalIdOf(fn.role as never), props: resourcesOf(s.template, 'AWS::Lambda::Function')[logicalIdOf(fn)]?.Properties ?? {} };
};
const environmentOf = (s: Synthesized, spec: FunctionSpec) => (functionOf(s, spec).props.Environment as { Variables: Record<string, unknown> }).Variables;
const statementsOf = (s: Synthesized, spec: FunctionSpec) => statementsOfRole(s.template, functionOf(s, spec).role);
const on = (statements: Statement[], logicalId: string, attribute = 'Arn') =>
  statements.filter((st) => JSON.stringify(st.Resource).includes(JSON.stringify({ 'Fn::GetAtt': [logicalId, attribute] })));

const TABLE_READS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const TABLE_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

describe('the stack builds every function of shared/spec/functions.ts', () => {
  it('as a TeamFunction named rtl-<stage>-<id> with the spec\'s timeout and memory', () => {
    for (const spec of FUNCTIONS) {
      const { props } = functionOf(dev, spec);
      expect(props).toMatchObject({ FunctionName: `rtl-dev-${spec.id}`, Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(props.Timeout).toBe(spec.timeoutSeconds ?? 10);
      expect(props.MemorySize).toBe(spec.memoryMb ?? 512);
    }
  });

  it('gives every function the environment shared/config.ts validates', () => {
    // Deploy-time references (Ref, GetAtt, Join) stand in as a URL, which every field accepts.
    const resolved = (value: unknown) => (typeof value === 'string' ? value : 'https://resolved.example.com/value');
    for (const spec of FUNCTIONS) {
      const variables = environmentOf(dev, spec);
      const config = parseConfig(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolved(v)])));
      expect(config).toMatchObject({ STAGE: 'dev', JWT_KIND: 'cognito', ACCESS_PROVIDER_FUNCTION: 'rtl-dev-AccessProvider' });
      expect(variables.MEDIA_MAX_BYTES).toBe(String(dev.config.mediaMaxBytes));
      expect(variables.MEDIA_CONTENT_TYPES).toBe(dev.config.mediaContentTypes.join(','));
    }
  });

  it('points CONNECTIONS_ENDPOINT at the WebSocket stage callback URL and the table variables at the tables', () => {
    const variables = environmentOf(dev, FUNCTIONS[0] as FunctionSpec);
    const endpoint = JSON.stringify(variables.CONNECTIONS_ENDPOINT);
    expect(endpoint).toContain('"https://"');
    expect(endpoint).toContain(`{"Ref":"${logicalIdOf(dev.stack.node.findChild('WebSocketApi').node.findChild('Api'))}"}`);
    expect(endpoint).toMatch(/\/dev"\]\]\}$/);
    for (const table of TABLES) {
      expect(variables[`TABLE_${table.id.toUpperCase()}`]).toEqual({ Ref: logicalIdOf(dev.stack.node.findChild('Tables').node.findChild(table.id)) });
    }
  });

  it('routes every HTTP and WebSocket route key to its spec\'s function', () => {
    const integrations = resourcesOf(dev.template, 'AWS::ApiGatewayV2::Integration');
    const routes = Object.values(resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route'));
    for (const spec of FUNCTIONS) {
      const { trigger } = spec;
      if (trigger.kind !== 'http' && trigger.kind !== 'ws') continue;
      const key = trigger.kind === 'http' ? `${trigger.method} ${trigger.path}` : trigger.routeKey;
      const route = routes.find((r) => r.Properties.RouteKey === key);
      const target = (route?.Properties.Target as { 'Fn::Join': [string, string[]] })['Fn::Join'][1][1] as unknown as { Ref: string };
      expect(JSON.stringify(integrations[target.Ref]?.Properties.IntegrationUri), key).toContain(functionOf(dev, spec).id);
    }
  });
});

describe('least privilege: each function gets exactly the grants of its spec', () => {
  it.each(FUNCTIONS.map((spec) => [spec.id, spec] as const))('%s reads and writes only the tables its spec names, as it names them', (_id, spec) => {
    const statements = statementsOf(dev, spec);
    for (const table of TABLES) {
      const access: Access | undefined = spec.grants.tables?.[table.id as TableId];
      const actions = actionsOf(on(statements, logicalIdOf(dev.stack.node.findChild('Tables').node.findChild(table.id))));
      const reads = access === 'read' || access === 'readwrite';
      const writes = access === 'write' || access === 'readwrite';
      for (const action of TABLE_READS) expect(actions.includes(action), `${spec.id} ${table.id} ${action}`).toBe(reads);
      for (const action of TABLE_WRITES) expect(actions.includes(action), `${spec.id} ${table.id} ${action}`).toBe(writes);
    }
  });

  it.each(FUNCTIONS.map((spec) => [spec.id, spec] as const))('%s may use the queue, connections, media, bus, push topic and provider only as its spec says', (_id, spec) => {
    const statements = statementsOf(dev, spec);
    const actions = actionsOf(statements);
    const fanOut = dev.stack.node.findChild('FanOut');
    const queueSends = on(statements, logicalIdOf(fanOut.node.findChild('Queue'))).some((s) => actionsOf([s]).includes('sqs:SendMessage'));
    expect(queueSends).toBe(Boolean(spec.grants.fanoutQueue));
    expect(actions.includes('execute-api:ManageConnections')).toBe(Boolean(spec.grants.connections));
    expect(actions.includes('s3:GetObject')).toBe(spec.grants.mediaBucket === 'read' || spec.grants.mediaBucket === 'readwrite');
    expect(actions.includes('s3:PutObject')).toBe(spec.grants.mediaBucket === 'write' || spec.grants.mediaBucket === 'readwrite');
    expect(actions.includes('events:PutEvents')).toBe(Boolean(spec.grants.eventBus));
    expect(actions.includes('sns:Publish')).toBe(Boolean(spec.grants.pushTopic));
    expect(actions.includes('lambda:InvokeFunction')).toBe(Boolean(spec.grants.accessProvider));
  });

  it('lets Fanout post to connections and keeps a read-only function from writing', () => {
    expect(actionsOf(statementsOf(dev, FUNCTIONS.find((f) => f.id === 'Fanout') as FunctionSpec))).toContain('execute-api:ManageConnections');
    const readOnly = actionsOf(statementsOf(dev, FUNCTIONS.find((f) => f.id === 'ChannelsGet') as FunctionSpec));
    expect(readOnly).toContain('dynamodb:GetItem');
    expect(readOnly).not.toContain('dynamodb:PutItem');
  });

  it('grants no wildcard action, and a wildcard resource only where AWS has no resource-level permission', () => {
    for (const s of [dev, prod, external]) {
      for (const policy of Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))) {
        for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
          for (const action of actionsOf([statement])) expect(action).not.toMatch(/(^\*$)|(:\*$)/);
          if (statement.Resource === '*') {
            expect(actionsOf([statement]).every((a) => a.startsWith('xray:') || a === 'dynamodb:ListStreams')).toBe(true);
          }
        }
      }
      for (const role of Object.values(resourcesOf(s.template, 'AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('stages', () => {
  it('retains prod tables, user pool, buckets and log groups under deletion protection', () => {
    for (const table of Object.values(resourcesOf(prod.template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
    prod.template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }) });
    for (const type of ['AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(resourcesOf(prod.template, type))) expect(resource.DeletionPolicy, type).toBe('Retain');
    }
    for (const group of Object.values(resourcesOf(prod.template, 'AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(90);
  });

  it('destroys dev resources with the stack and keeps dev logs a week', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Cognito::UserPool', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(resourcesOf(dev.template, type))) expect(resource.DeletionPolicy, type).toBe('Delete');
    }
    for (const group of Object.values(resourcesOf(dev.template, 'AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(7);
  });

  it('uses an external OIDC issuer and access provider when the stage names them', () => {
    expect(Object.keys(resourcesOf(external.template, 'AWS::Cognito::UserPool'))).toHaveLength(0);
    external.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['app-a', 'app-b'] } });
    expect(external.stack.functions.has('AccessProvider')).toBe(false);
    for (const spec of FUNCTIONS.filter((f) => f.trigger.kind !== 'invoke')) {
      expect(environmentOf(external, spec)).toMatchObject({
        ACCESS_PROVIDER_FUNCTION: EXTERNAL_PROVIDER,
        JWT_KIND: 'oidc',
        JWT_ISSUER: 'https://issuer.example.com',
        JWT_AUDIENCE: 'app-a,app-b',
      });
      const invokes = statementsOf(external, spec).filter((s) => actionsOf([s]).includes('lambda:InvokeFunction'));
      expect(invokes.map((s) => s.Resource)).toEqual(spec.grants.accessProvider ? [[EXTERNAL_PROVIDER, `${EXTERNAL_PROVIDER}:*`]] : []);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unsuppressed error in dev or prod', () => {
    for (const { stack } of [dev, prod]) {
      const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
      expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
    }
  });
});
