import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface AlarmThresholds {
  /** Messages visible in a dead-letter queue (maximum over 5 minutes). */
  readonly dlqDepth: number;
  /** Errors of one function (sum over 5 minutes). */
  readonly lambdaErrors: number;
  /** Throttles of one function (sum over 5 minutes). */
  readonly lambdaThrottles: number;
  /** Server-side errors of one API (sum over 5 minutes). */
  readonly api5xx: number;
}

export interface AlarmsProps {
  /** Name of the SNS topic alarms notify. */
  readonly topicName: string;
  /** Functions by spec id. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** Dead-letter and on-failure queues by name. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
  readonly httpApi: apigwv2.IHttpApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  readonly thresholds: AlarmThresholds;
}

/**
 * What pages someone: dead letters piling up, function errors and throttles, API
 * server errors. Every alarm notifies one SNS topic that operators subscribe to.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { topicName: props.topicName, enforceSSL: true });
    NagSuppressions.addResourceSuppressions(this.topic, [
      {
        id: 'AwsSolutions-SNS2',
        reason: 'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key; alarm notifications carry metric names only, no user data.',
      },
    ]);
    const notify = new actions.SnsAction(this.topic);
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      this.alarms.push(created);
    };

    for (const [name, queue] of props.deadLetterQueues) {
      alarm(
        `${name}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        props.thresholds.dlqDepth,
        `${name}: messages that delivery gave up on`,
      );
    }
    for (const [name, fn] of props.functions) {
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }), props.thresholds.lambdaErrors, `${name}: invocation errors`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }), props.thresholds.lambdaThrottles, `${name}: throttled invocations`);
    }
    alarm('HttpApi5xx', props.httpApi.metricServerError({ period, statistic: cloudwatch.Stats.SUM }), props.thresholds.api5xx, 'HTTP API: 5xx answers');
    // WebSocket APIs have no 5xx metric: integration errors (handler failed) and execution errors (API Gateway failed).
    for (const metricName of ['IntegrationError', 'ExecutionError']) {
      alarm(
        `WebSocketApi${metricName}`,
        props.webSocketStage.metric(metricName, { period, statistic: cloudwatch.Stats.SUM }),
        props.thresholds.api5xx,
        `WebSocket API: ${metricName}`,
      );
    }
  }
}
