import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface FanOutProps {
  /** The fan-out function's timeout: the queue's visibility timeout is six times it. */
  readonly fanoutTimeout: Duration;
}

export interface FanOutWiring {
  /** The entries table: its stream is the outbox. */
  readonly entries: dynamodb.ITable;
  /** Turns committed changes into deliveries (stream → queue). */
  readonly streamRouter: lambda.Function;
  /** Posts deliveries to connections (queue → @connections). */
  readonly fanout: lambda.Function;
}

/**
 * The delivery path: entries stream → stream router (bisect, retries, partial batch
 * responses, on-failure queue) → fan-out queue (DLQ) → fan-out function (partial batch
 * responses).
 */
export class FanOut extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly streamFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    const queueDefaults = { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED, retentionPeriod: Duration.days(14) };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', queueDefaults);
    this.streamFailures = new sqs.Queue(this, 'StreamFailures', queueDefaults);
    this.queue = new sqs.Queue(this, 'Queue', {
      ...queueDefaults,
      retentionPeriod: Duration.days(1),
      // Lambda's rule: at least six times the function timeout, so retries never overlap.
      visibilityTimeout: Duration.seconds(props.fanoutTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
  }

  /** Connects the functions once they exist (their environment needs this construct's queue first). */
  wire(props: FanOutWiring): void {
    props.streamRouter.addEventSource(
      new DynamoEventSource(props.entries, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 3,
        maxRecordAge: Duration.hours(1),
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.streamFailures),
      }),
    );
    props.fanout.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 50 }));
  }
}
