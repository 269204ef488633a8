/**
 * The CDK app: one stack per stage (`-c stage=dev|prod`, default dev; docs/deploy.md),
 * checked by cdk-nag AwsSolutions: an unsuppressed finding fails the synth.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RealtimeLayerStack } from '../lib/stack';
import { stageConfigFromContext } from '../lib/stage-config';

const app = new App();
const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
new RealtimeLayerStack(app, `RealtimeLayer-${config.stage}`, {
  config,
  description: `Realtime communication layer (${config.stage})`,
  terminationProtection: config.retain,
  // Environment-agnostic: deployed to the CLI's account and region, synthesized offline.
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
