import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface PushProps {
  readonly topicName: string;
}

/** Push to offline users: one SNS topic, encrypted, accepting TLS requests only. */
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
