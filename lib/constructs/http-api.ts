import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface HttpRoute {
  /** Stable id of the route's integration (the function spec id). */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with `{param}` placeholders, e.g. `/v1/channels/{channel_id}`. */
  readonly path: string;
  readonly handler: lambda.IFunction;
}

export interface HttpApiConstructProps {
  readonly apiName: string;
  /** JWT issuer URL (Cognito user pool or external OIDC). */
  readonly issuer: string;
  /** Accepted `aud` values; API Gateway checks Cognito access tokens' `client_id` against them. */
  readonly audience: readonly string[];
  readonly routes: readonly HttpRoute[];
  /** Browser origins allowed to call the API. */
  readonly corsOrigins: readonly string[];
  readonly throttle: apigwv2.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  readonly retainLogs: boolean;
}

/** The HTTP API: every route behind the native JWT authorizer, access-logged, throttled. */
export class HttpApiConstruct extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;

  constructor(scope: Construct, id: string, props: HttpApiConstructProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer('Jwt', props.issuer, { jwtAudience: [...props.audience] });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: props.apiName,
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.corsOrigins],
        allowMethods: [apigwv2.CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        exposeHeaders: ['idempotency-replayed', 'retry-after'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            sub: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    for (const route of props.routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, route.handler),
      });
    }
  }

  /** The API's base URL (`https://…/`); routes start with `/v1`. */
  get url(): string {
    return this.stage.url;
  }
}
