import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alarms } from '../../lib/constructs/alarms';
import { FanOut } from '../../lib/constructs/fan-out';
import { Tables } from '../../lib/constructs/tables';
import { bareStack, logicalIdOf, resourcesOf, statementsOfRole, stubFunction } from './helpers';

describe('FanOut: entries stream → stream router → fan-out queue → fan-out function', () => {
  let template: Template;
  let ids: Record<'entries' | 'router' | 'fanout' | 'queue' | 'deadLetters' | 'streamFailures' | 'routerRole', string>;

  beforeAll(() => {
    const stack = bareStack();
    const tables = new Tables(stack, 'Tables', { namePrefix: 'rtl-test', retain: false });
    const router = stubFunction(stack, 'StreamRouter');
    const fanout = stubFunction(stack, 'Fanout');
    const fanOut = new FanOut(stack, 'FanOut', { fanoutTimeout: Duration.seconds(30), fanoutBatchSize: 1, fanoutMaxConcurrency: 50 });
    fanOut.connect({ entries: tables.byId.entries, streamRouter: router, fanout });
    template = Template.fromStack(stack);
    ids = {
      entries: logicalIdOf(tables.byId.entries),
      router: logicalIdOf(router),
      fanout: logicalIdOf(fanout),
      queue: logicalIdOf(fanOut.queue),
      deadLetters: logicalIdOf(fanOut.deadLetterQueue),
      streamFailures: logicalIdOf(fanOut.streamFailures),
      routerRole: logicalIdOf(router.role as never),
    };
  });

  it('feeds the stream router from the entries stream with bisection, bounded retries and age, and partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.router },
      EventSourceArn: { 'Fn::GetAtt': [ids.entries, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: Match.anyValue(),
      MaximumRecordAgeInSeconds: Match.anyValue(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const mapping = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping')).find((m) => JSON.stringify(m.Properties.FunctionName).includes(ids.router));
    expect(mapping?.Properties.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(mapping?.Properties.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(mapping?.Properties.MaximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60);
  });

  it('describes stream batches it gives up on in the on-failure queue, which the router may send to', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.router },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [ids.streamFailures, 'Arn'] } } },
    });
    const send = statementsOfRole(template, ids.routerRole).find((s) => JSON.stringify(s.Resource).includes(ids.streamFailures));
    expect([send?.Action].flat()).toContain('sqs:SendMessage');
  });

  it('feeds the fan-out function from the queue one message per invocation, with partial batch responses and bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.fanout },
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 50 },
    });
  });

  it('moves a delivery to the dead-letter queue after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetters, 'Arn'] } },
    });
  });

  it('hides a received delivery for at least six fan-out timeouts', () => {
    const queue = resourcesOf(template, 'AWS::SQS::Queue')[ids.queue];
    expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 30);
  });

  it('encrypts every queue and refuses requests without TLS', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(3);
    for (const queue of Object.values(queues)) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    for (const id of Object.keys(queues)) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });
});

describe('Alarms: what pages someone', () => {
  let stack: Stack;
  let template: Template;
  const thresholds = { dlqDepth: 2, lambdaErrors: 3, lambdaThrottles: 4, api5xx: 6 };

  beforeAll(() => {
    stack = bareStack();
    const webSocketApi = new apigwv2.WebSocketApi(stack, 'Ws');
    new Alarms(stack, 'Alarms', {
      topicName: 'rtl-test-alarms',
      functions: new Map([['Fanout', stubFunction(stack, 'Fanout')]]),
      deadLetterQueues: new Map([['FanoutDeadLetters', new sqs.Queue(stack, 'Dlq')]]),
      httpApi: new apigwv2.HttpApi(stack, 'Http'),
      webSocketStage: new apigwv2.WebSocketStage(stack, 'WsStage', { webSocketApi, stageName: 'test' }),
      thresholds,
    });
    template = Template.fromStack(stack);
  });

  const alarmOn = (metricName: string) => Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === metricName);

  it('alarms on dead letters, function errors and throttles, HTTP 5xx and WebSocket integration and execution errors, at the stage thresholds', () => {
    expect(alarmOn('ApproximateNumberOfMessagesVisible').map((a) => a.Properties.Threshold)).toEqual([thresholds.dlqDepth]);
    expect(alarmOn('Errors').map((a) => a.Properties.Threshold)).toEqual([thresholds.lambdaErrors]);
    expect(alarmOn('Throttles').map((a) => a.Properties.Threshold)).toEqual([thresholds.lambdaThrottles]);
    expect(alarmOn('5xx').map((a) => a.Properties.Threshold)).toEqual([thresholds.api5xx]);
    for (const metric of ['IntegrationError', 'ExecutionError']) {
      const [alarm] = alarmOn(metric);
      expect(alarm?.Properties.Threshold).toBe(thresholds.api5xx);
      expect((alarm?.Properties.Dimensions as { Name: string }[]).map((d) => d.Name).sort()).toEqual(['ApiId', 'Stage']);
    }
  });

  it('notifies the alarm topic from every alarm, and the topic accepts TLS only', () => {
    const topicId = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0];
    for (const alarm of Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});
