/** The CDK app: one stack per stage (`-c stage=dev|prod`), checked by cdk-nag AwsSolutions. */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { applyNagSuppressions } from '../lib/nag';
import { RealtimeLayerStack } from '../lib/stack';
import { stageConfigFromContext } from '../lib/stage-config';

const app = new App();
const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
const stack = new RealtimeLayerStack(app, `RealtimeLayer-${config.stage}`, {
  config,
  description: `Realtime communication layer (${config.stage})`,
  terminationProtection: config.retain,
});
applyNagSuppressions(stack);
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
app.synth();
