import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface WebSocketRoute {
  /** Stable id of the route's integration (the function spec id). */
  readonly id: string;
  /** `$connect`, `$disconnect`, `$default` or an `action` value. */
  readonly routeKey: string;
  readonly handler: lambda.IFunction;
}

export interface WebSocketApiConstructProps {
  readonly apiName: string;
  /** Stage name; also the last path segment of the URLs. */
  readonly stageName: string;
  /** Lambda authorizer of `$connect`; reads the JWT from `?token=`. */
  readonly authorizer: lambda.IFunction;
  /** Must include `$connect`, `$disconnect` and `$default`. */
  readonly routes: readonly WebSocketRoute[];
  readonly throttle: apigwv2.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  readonly retainLogs: boolean;
}

const SYSTEM_ROUTES = ['$connect', '$disconnect', '$default'] as const;

/**
 * The WebSocket API: `$connect` behind a Lambda authorizer reading `?token=`, routes
 * selected by `$request.body.action`, each action's answer returned as its route
 * response, one auto-deployed, throttled, access-logged stage.
 */
export class WebSocketApiConstruct extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;

  constructor(scope: Construct, id: string, props: WebSocketApiConstructProps) {
    super(scope, id);
    const integration = (routeKey: string) => {
      const route = props.routes.find((r) => r.routeKey === routeKey);
      if (!route) throw new Error(`WebSocket route ${routeKey} has no handler`);
      return new WebSocketLambdaIntegration(`${route.id}Integration`, route.handler);
    };
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: props.apiName,
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: integration('$connect'),
        authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', props.authorizer, {
          identitySource: ['route.request.querystring.token'],
        }),
      },
      // $disconnect cannot answer: the connection is already gone.
      disconnectRouteOptions: { integration: integration('$disconnect') },
      defaultRouteOptions: { integration: integration('$default'), returnResponse: true },
    });
    for (const route of props.routes) {
      if ((SYSTEM_ROUTES as readonly string[]).includes(route.routeKey)) continue;
      this.api.addRoute(route.routeKey, { integration: integration(route.routeKey), returnResponse: true });
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            status: '$context.status',
            connectionId: '$context.connectionId',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    for (const child of this.api.node.children) {
      if (child instanceof apigwv2.WebSocketRoute && child.routeKey !== '$connect') {
        NagSuppressions.addResourceSuppressions(child, [
          {
            id: 'AwsSolutions-APIG4',
            reason: 'API Gateway runs WebSocket authorizers on $connect only; every later frame rides the connection $connect authorized.',
          },
        ]);
      }
    }
  }

  /** `wss://…/<stage>`: what clients connect to, with `?token=<JWT>`. */
  get url(): string {
    return this.stage.url;
  }

  /** `https://…/<stage>`: the @connections endpoint (CONNECTIONS_ENDPOINT). */
  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  /** execute-api:ManageConnections on this stage's @connections paths only. */
  grantManageConnections(grantee: iam.IGrantable): iam.Grant {
    return this.stage.grantManagementApiAccess(grantee);
  }
}
