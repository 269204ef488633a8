import type { Stack } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';

/**
 * cdk-nag AwsSolutions findings this design accepts, each with its reason. Everything
 * else must pass.
 */
export function applyNagSuppressions(stack: Stack): void {
  NagSuppressions.addStackSuppressions(stack, [
    { id: 'AwsSolutions-IAM4', reason: 'Lambda functions use AWSLambdaBasicExecutionRole only to write their own logs; data access is granted per function with grant* methods.' },
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Wildcards come from CDK grant* helpers scoped to one resource (table indexes, bucket objects, the stage\'s @connections paths) and from X-Ray tracing, which has no resource-level permissions.',
    },
    { id: 'AwsSolutions-L1', reason: 'Functions run on Node.js 22, the runtime the layer is built and tested for; upgrading is a deliberate change.' },
    { id: 'AwsSolutions-APIG4', reason: 'WebSocket $disconnect and action routes are authorized once at $connect by the Lambda authorizer, as API Gateway WebSocket APIs allow authorizers on $connect only.' },
    { id: 'AwsSolutions-COG4', reason: 'The HTTP API uses the native JWT authorizer against the Cognito issuer (or an external OIDC issuer), which checks client_id / aud.' },
    { id: 'AwsSolutions-COG2', reason: 'MFA is optional (TOTP) so each product decides; sign-in itself happens in the apps, not in this layer.' },
    { id: 'AwsSolutions-COG8', reason: 'The Cognito Plus feature plan is a paid upgrade; stages that need it opt in through stage config.' },
    { id: 'AwsSolutions-COG3', reason: 'Cognito threat protection is a paid feature plan; stages opt in through stage config.' },
    { id: 'AwsSolutions-SQS3', reason: 'These queues are themselves dead-letter / on-failure destinations.' },
    { id: 'AwsSolutions-S1', reason: 'The access-log bucket does not log itself.' },
  ]);
}
