import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly functions: ReadonlyMap<string, lambda.Function>;
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
  readonly httpApi: apigwv2.HttpApi;
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: string;
  readonly thresholds: { readonly dlqDepth: number; readonly lambdaErrors: number; readonly lambdaThrottles: number; readonly api5xx: number };
}

/** What pages someone: dead letters piling up, function errors and throttles, API 5xx. */
export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number) =>
      this.alarms.push(
        new cloudwatch.Alarm(this, alarmId, {
          metric,
          threshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    const period = Duration.minutes(5);
    for (const [name, queue] of props.deadLetterQueues) {
      alarm(`${name}Depth`, queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), props.thresholds.dlqDepth);
    }
    for (const [name, fn] of props.functions) {
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), props.thresholds.lambdaErrors);
      alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: 'Sum' }), props.thresholds.lambdaThrottles);
    }
    alarm('HttpApi5xx', props.httpApi.metricServerError({ period, statistic: 'Sum' }), props.thresholds.api5xx);
    alarm(
      'WebSocketApi5xx',
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: 'IntegrationError',
        dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStage },
        period,
        statistic: 'Sum',
      }),
      props.thresholds.api5xx,
    );
  }
}
