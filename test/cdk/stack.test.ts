import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyNagSuppressions } from '../../lib/nag';
import { RealtimeLayerStack } from '../../lib/stack';
import { stageConfigFromContext } from '../../lib/stage-config';
import { FUNCTIONS } from '../../shared/spec/functions';
import { TABLES } from '../../shared/spec/tables';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

function synth(context: Record<string, string>): { stack: Stack; template: Template } {
  // Bundling is skipped: these tests check the template, not the handlers' bundles.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
  const stack = new RealtimeLayerStack(app, `RealtimeLayer-${config.stage}`, { config });
  applyNagSuppressions(stack);
  Aspects.of(app).add(new AwsSolutionsChecks());
  return { stack, template: Template.fromStack(stack) };
}

let dev: { stack: Stack; template: Template };
let prod: { stack: Stack; template: Template };

beforeAll(() => {
  dev = synth({ stage: 'dev' });
  prod = synth({ stage: 'prod' });
});

const resourcesOf = (template: Template, type: string): Resources => template.findResources(type) as Resources;

describe('tables', () => {
  it('builds every table of the spec with its keys, indexes, TTL and stream', () => {
    const tables = Object.values(resourcesOf(dev.template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(TABLES.length);
    for (const spec of TABLES) {
      const table = tables.find((t) => t.Properties.TableName === `rtl-dev-${spec.id}`);
      expect(table, spec.id).toBeDefined();
      const props = table?.Properties as Record<string, never>;
      expect(props.KeySchema).toEqual([
        { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
        ...(spec.sortKey ? [{ AttributeName: spec.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      expect(((props.LocalSecondaryIndexes ?? []) as { IndexName: string }[]).map((i) => i.IndexName)).toEqual((spec.localIndexes ?? []).map((i) => i.indexName));
      expect(((props.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]).map((i) => i.IndexName)).toEqual((spec.globalIndexes ?? []).map((i) => i.indexName));
      expect((props.TimeToLiveSpecification as { AttributeName?: string } | undefined)?.AttributeName).toBe(spec.ttlAttribute);
      expect((props.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType).toBe(spec.stream);
    }
  });

  it('bills on demand, keeps point-in-time recovery and encrypts every table', () => {
    for (const table of Object.values(resourcesOf(dev.template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
  });

  it('retains tables with deletion protection in prod and not in dev', () => {
    for (const table of Object.values(resourcesOf(prod.template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
    for (const table of Object.values(resourcesOf(dev.template, 'AWS::DynamoDB::Table'))) expect(table.DeletionPolicy).toBe('Delete');
  });
});

describe('functions', () => {
  it('runs every handler of the catalogue on Node.js 22, arm64, traced', () => {
    const functions = Object.values(resourcesOf(dev.template, 'AWS::Lambda::Function')).filter((f) => f.Properties.Runtime);
    const ours = functions.filter((f) => String(f.Properties.Runtime).startsWith('nodejs22'));
    expect(ours.length).toBe(FUNCTIONS.length);
    for (const f of ours) {
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(f.Properties.LoggingConfig).toBeDefined();
    }
  });

  it('grants no wildcard actions on data resources', () => {
    for (const policy of Object.values(resourcesOf(dev.template, 'AWS::IAM::Policy'))) {
      const statements = (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement;
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/^(dynamodb|s3|sqs|sns|events|lambda|execute-api):\*$/);
        }
      }
    }
  });

  it('lets only the delivering functions manage connections', () => {
    const policies = Object.entries(resourcesOf(dev.template, 'AWS::IAM::Policy'));
    const managing = policies
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('execute-api:ManageConnections'))
      .map(([id]) => id);
    const expected = FUNCTIONS.filter((f) => f.grants.connections).map((f) => f.id);
    expect(managing.length).toBe(expected.length);
    for (const id of expected) expect(managing.some((m) => m.startsWith(id))).toBe(true);
  });

  it('gives a read-only function no write access to tables', () => {
    const [, policy] = Object.entries(resourcesOf(dev.template, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('ChannelsGet')) ?? [];
    const text = JSON.stringify(policy?.Properties.PolicyDocument);
    expect(text).toContain('dynamodb:GetItem');
    expect(text).not.toContain('dynamodb:PutItem');
    expect(text).not.toContain('dynamodb:UpdateItem');
  });
});

describe('HTTP API', () => {
  it('puts every route of the catalogue behind the JWT authorizer', () => {
    const httpRoutes = FUNCTIONS.filter((f) => f.trigger.kind === 'http');
    const routes = Object.values(resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route')).filter((r) => String(r.Properties.RouteKey).includes('/v1/'));
    expect(routes).toHaveLength(httpRoutes.length);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('JWT');
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
  });
});

describe('WebSocket API', () => {
  it('selects routes on the action and authorizes $connect with the token query string', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] });
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$connect', AuthorizationType: 'CUSTOM' });
  });

  it('has a route for every WebSocket action of the catalogue', () => {
    const keys = Object.values(resourcesOf(dev.template, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    for (const f of FUNCTIONS) if (f.trigger.kind === 'ws') expect(keys).toContain(f.trigger.routeKey);
  });
});

describe('delivery path', () => {
  it('reads the entries stream with bisect, retries, partial batch responses and an on-failure queue', () => {
    dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.anyValue(),
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('feeds the fan-out function from a queue with a dead-letter queue and partial batch responses', () => {
    dev.template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() } });
    dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });

  it('alarms on dead letters, function errors and throttles, and API 5xx', () => {
    const alarms = Object.values(resourcesOf(dev.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName);
    expect(alarms).toContain('ApproximateNumberOfMessagesVisible');
    expect(alarms).toContain('Errors');
    expect(alarms).toContain('Throttles');
    expect(alarms).toContain('5xx');
    expect(alarms).toContain('IntegrationError');
  });
});

describe('media bucket', () => {
  it('blocks public access, encrypts and enforces TLS', () => {
    dev.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      CorsConfiguration: Match.anyValue(),
      LoggingConfiguration: Match.anyValue(),
    });
    dev.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('stage configuration', () => {
  it('rejects an unknown stage at synth', () => {
    expect(() => synth({ stage: 'qa' })).toThrow(/stage must be dev or prod/);
  });

  it('uses an external OIDC issuer and access provider when the stage names them', () => {
    const { template } = synth({
      stage: 'dev',
      oidcIssuer: 'https://issuer.example.com',
      oidcAudience: 'app-a,app-b',
      accessProviderArn: 'arn:aws:lambda:us-east-1:123456789012:function:billing-access',
    });
    expect(Object.keys(template.findResources('AWS::Cognito::UserPool'))).toHaveLength(0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['app-a', 'app-b'] } });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resources[string][];
    expect(functions.filter((f) => String(f.Properties.Runtime).startsWith('nodejs22'))).toHaveLength(FUNCTIONS.length - 1);
    expect(JSON.stringify(template.toJSON())).toContain('billing-access');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unsuppressed error in either stage', () => {
    for (const { stack } of [dev, prod]) {
      const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
      expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 120)}`)).toEqual([]);
    }
  });
});
