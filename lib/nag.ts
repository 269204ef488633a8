import type { Stack } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';

/**
 * The wildcards CDK grant* helpers write into function policies, each scoped to one
 * resource of this stack. Suppressed by exact pattern (`appliesTo`), so any other
 * wildcard still fails cdk-nag. Suppressions of one resource live in its construct.
 */
export function suppressGrantWildcards(stack: Stack): void {
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Table grants cover the table\'s own secondary indexes (<table>/index/*), which the spec declares and handlers query.',
      appliesTo: [{ regex: '/^Resource::<Tables[A-Za-z0-9]+\\.Arn>\\/index\\/\\*$/' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Media object keys are per upload (scope/id-random); grants name the media bucket\'s objects and only s3:GetObject / s3:PutObject.',
      appliesTo: [{ regex: '/^Resource::<MediaBucket[A-Za-z0-9]+\\.Arn>\\/\\*$/' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Connection ids are per connection; ManageConnections is limited to this stage\'s @connections paths.',
      appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketApi[A-Za-z0-9]+>\\/[a-z]+\\/\\*\\/@connections\\/\\*$/' }],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'Invoke rights on the access-provider function include its versions and aliases (<function>:*), as Lambda grantInvoke writes them.',
      appliesTo: [{ regex: '/^Resource::(<AccessProvider[A-Za-z0-9]+\\.Arn>|arn:aws[a-z-]*:lambda:[a-z0-9-]+:\\d{12}:function:[A-Za-z0-9_-]+):\\*$/' }],
    },
  ]);
}
