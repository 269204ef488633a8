import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface FanOutProps {
  /** The fan-out function's timeout: the queue's visibility timeout is six times it. */
  readonly fanoutTimeout: Duration;
  /** Receives after which a delivery batch moves to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  /** Queue messages per fan-out invocation (shared/spec/functions.ts). */
  readonly fanoutBatchSize: number;
  /** Fan-out invocations at most (shared/spec/functions.ts). */
  readonly fanoutMaxConcurrency: number;
}

export interface FanOutConsumers {
  /** The entries table: its stream is the outbox. */
  readonly entries: dynamodb.ITable;
  /** Turns committed changes into deliveries (entries stream → fan-out queue). */
  readonly streamRouter: lambda.IFunction;
  /** Posts deliveries to connections (fan-out queue → @connections). */
  readonly fanout: lambda.IFunction;
}

/**
 * The delivery path's queues and event sources: entries stream → stream router
 * (bisect on error, bounded retries and record age, partial batch responses, failed
 * batches described on an on-failure queue) → fan-out queue (dead-letter queue after
 * `maxReceiveCount` receives) → fan-out function (partial batch responses).
 * Which functions may send to the queue or post to connections is the stack's wiring.
 */
export class FanOut extends Construct {
  /** Deliveries waiting for the fan-out function (FANOUT_QUEUE_URL). */
  readonly queue: sqs.Queue;
  /** Deliveries that failed `maxReceiveCount` times. */
  readonly deadLetterQueue: sqs.Queue;
  /** Descriptions (shard, sequence range) of stream batches the router gave up on. */
  readonly streamFailures: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FanOutProps,
  ) {
    super(scope, id);
    const queueDefaults = { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED, retentionPeriod: Duration.days(14) };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', queueDefaults);
    this.streamFailures = new sqs.Queue(this, 'StreamFailures', queueDefaults);
    this.queue = new sqs.Queue(this, 'Queue', {
      ...queueDefaults,
      // Live deliveries are worthless after a day: clients catch up over /changes.
      retentionPeriod: Duration.days(1),
      // Lambda's rule for SQS sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(props.fanoutTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    NagSuppressions.addResourceSuppressions(this.streamFailures, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the on-failure destination of the entries stream mapping; it holds batch descriptions for replay.' },
    ]);
  }

  /** Attaches the two event sources (the functions need this construct's queue URL first). */
  connect(consumers: FanOutConsumers): void {
    consumers.streamRouter.addEventSource(
      new DynamoEventSource(consumers.entries, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 5,
        // The records outlive this only when the router is broken; clients catch up over /changes.
        maxRecordAge: Duration.hours(6),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.streamFailures),
      }),
    );
    consumers.fanout.addEventSource(
      new SqsEventSource(this.queue, { batchSize: this.props.fanoutBatchSize, reportBatchItemFailures: true, maxConcurrency: this.props.fanoutMaxConcurrency }),
    );
  }
}
