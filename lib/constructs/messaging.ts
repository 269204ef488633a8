import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface PushProps {
  readonly topicName: string;
}

/** Push to offline users: one encrypted SNS topic that accepts TLS publishes only. */
export class Push extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: PushProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
  }
}

export interface EventsProps {
  readonly busName: string;
}

/** Events to other services: the layer's own EventBridge bus (ids only, never content). */
export class Events extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: EventsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.busName });
  }
}
