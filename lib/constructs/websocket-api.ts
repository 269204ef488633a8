import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface WebSocketApiProps {
  readonly apiName: string;
  readonly stageName: string;
  readonly authorizer: lambda.IFunction;
  /** routeKey → handler; `$connect`, `$disconnect`, `$default` and actions. */
  readonly routes: ReadonlyMap<string, lambda.IFunction>;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The WebSocket API: `$connect` behind a Lambda authorizer reading `?token=`, routes
 * selected by `$request.body.action`, route responses returned to the caller.
 */
export class WebSocketApiConstruct extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    const integration = (routeKey: string) => {
      const handler = props.routes.get(routeKey);
      if (!handler) throw new Error(`WebSocket route ${routeKey} has no handler`);
      return new WebSocketLambdaIntegration(`${routeKey.replace(/\$/g, '')}Integration`, handler);
    };
    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: props.apiName,
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: integration('$connect'),
        authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', props.authorizer, { identitySource: ['route.request.querystring.token'] }),
      },
      disconnectRouteOptions: { integration: integration('$disconnect') },
      defaultRouteOptions: { integration: integration('$default'), returnResponse: true },
    });
    for (const routeKey of props.routes.keys()) {
      if (routeKey.startsWith('$')) continue;
      this.api.addRoute(routeKey, { integration: integration(routeKey), returnResponse: true });
    }
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: { rateLimit: 1000, burstLimit: 2000 },
    });
    (this.stage.node.defaultChild as apigwv2.CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status', connectionId: '$context.connectionId' }),
    };
  }

  /** The @connections ARNs of this stage, for least-privilege ManageConnections grants. */
  manageConnectionsArns(): string[] {
    return ['POST', 'GET', 'DELETE'].map((method) =>
      Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `${this.stage.stageName}/${method}/@connections/*` }),
    );
  }
}
