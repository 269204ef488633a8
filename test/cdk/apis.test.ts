import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HttpApiConstruct } from '../../lib/constructs/http-api';
import { WebSocketApiConstruct } from '../../lib/constructs/websocket-api';
import { FUNCTIONS, type Trigger } from '../../shared/spec/functions';
import { bareStack, resourcesOf, stubFunction, type Statement } from './helpers';

type HttpTrigger = Extract<Trigger, { kind: 'http' }>;
type WsTrigger = Extract<Trigger, { kind: 'ws' }>;
const httpSpecs = FUNCTIONS.filter((f) => f.trigger.kind === 'http');
const wsSpecs = FUNCTIONS.filter((f) => f.trigger.kind === 'ws');

let stack: Stack;
let template: Template;

beforeAll(() => {
  stack = bareStack();
  const logs = { logRetention: RetentionDays.ONE_WEEK, retainLogs: false };
  new HttpApiConstruct(stack, 'HttpApi', {
    apiName: 'rtl-test-http',
    issuer: 'https://issuer.example.com',
    audience: ['client-a'],
    corsOrigins: ['https://app.example.com'],
    throttle: { rateLimit: 10, burstLimit: 20 },
    ...logs,
    routes: httpSpecs.map((spec) => ({ id: spec.id, ...(spec.trigger as HttpTrigger), handler: stubFunction(stack, spec.id) })),
  });
  const ws = new WebSocketApiConstruct(stack, 'WebSocketApi', {
    apiName: 'rtl-test-ws',
    stageName: 'test',
    authorizer: stubFunction(stack, 'WsAuthorizer'),
    throttle: { rateLimit: 10, burstLimit: 20 },
    ...logs,
    routes: wsSpecs.map((spec) => ({ id: spec.id, routeKey: (spec.trigger as WsTrigger).routeKey, handler: stubFunction(stack, spec.id) })),
  });
  ws.grantManageConnections(new iam.Role(stack, 'Poster', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
  template = Template.fromStack(stack);
});

const apiIdOf = (protocol: 'HTTP' | 'WEBSOCKET') =>
  Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Api')).find(([, api]) => api.Properties.ProtocolType === protocol)?.[0];
const routesOf = (protocol: 'HTTP' | 'WEBSOCKET') =>
  Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).filter((r) => (r.Properties.ApiId as { Ref: string }).Ref === apiIdOf(protocol));

describe('HttpApiConstruct', () => {
  it('has one route per HTTP function of the catalogue', () => {
    const keys = routesOf('HTTP').map((r) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(httpSpecs.map((f) => `${(f.trigger as HttpTrigger).method} ${(f.trigger as HttpTrigger).path}`).sort());
  });

  it('puts every route behind the native JWT authorizer with the issuer and audience', () => {
    const [authorizerId] = Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer')).find(([, a]) => a.Properties.AuthorizerType === 'JWT') ?? [];
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['client-a'] },
    });
    for (const route of routesOf('HTTP')) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
      expect(route.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
    }
  });

  it('answers browser preflights for the configured origins', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://app.example.com'], AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key']) }),
    });
  });

  it('auto-deploys one throttled, access-logged default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiIdOf('HTTP') },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });
});

describe('WebSocketApiConstruct', () => {
  it('selects routes by the frame action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  it('has one route per WebSocket function of the catalogue', () => {
    expect(routesOf('WEBSOCKET').map((r) => r.Properties.RouteKey).sort()).toEqual(wsSpecs.map((f) => (f.trigger as WsTrigger).routeKey).sort());
  });

  it('authorizes $connect with the Lambda authorizer reading ?token=', () => {
    const [authorizerId] = Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer')).find(([, a]) => a.Properties.AuthorizerType === 'REQUEST') ?? [];
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] });
    const connect = routesOf('WEBSOCKET').find((r) => r.Properties.RouteKey === '$connect');
    expect(connect?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
  });

  it('returns the handler answer as the route response on every route but $connect and $disconnect', () => {
    const routes = Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
    const responded = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::RouteResponse')).map(
      (r) => routes.find(([id]) => id === (r.Properties.RouteId as { Ref: string }).Ref)?.[1].Properties.RouteKey,
    );
    const expected = wsSpecs.map((f) => (f.trigger as WsTrigger).routeKey).filter((k) => k !== '$connect' && k !== '$disconnect');
    expect(responded.sort()).toEqual(expected.sort());
  });

  it('auto-deploys one throttled, access-logged stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiIdOf('WEBSOCKET') },
      StageName: 'test',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
  });

  it('grants ManageConnections on this stage\'s @connections paths only', () => {
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const manage = statements.filter((s) => [s.Action].flat().includes('execute-api:ManageConnections'));
    expect(manage).toHaveLength(1);
    expect([manage[0]?.Action].flat()).toEqual(['execute-api:ManageConnections']);
    const resource = JSON.stringify(manage[0]?.Resource);
    expect(resource).toContain(`{"Ref":"${apiIdOf('WEBSOCKET')}"}`);
    expect(resource).toMatch(/"\/test\/\*\/@connections\/\*"/);
  });
});
