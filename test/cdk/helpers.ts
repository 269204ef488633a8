/** Shared helpers of the CDK tests: synthesis with bundling skipped, and template queries. */
import { App, Aspects, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { RealtimeLayerStack } from '../../lib/stack';
import { stageConfigFromContext, type StageConfig } from '../../lib/stage-config';

/** Skips esbuild: these tests read templates, not bundles (notes/toolchain.md). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export interface Synthesized {
  readonly config: StageConfig;
  readonly stack: RealtimeLayerStack;
  readonly template: Template;
}

/** The whole stack of one stage from CDK context, optionally under cdk-nag AwsSolutions. */
export function synthStage(context: Record<string, unknown>, options: { nag?: boolean } = {}): Synthesized {
  const app = new App({ context: { ...SKIP_BUNDLING, ...context } });
  const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
  const stack = new RealtimeLayerStack(app, `RealtimeLayer-${config.stage}`, { config });
  if (options.nag) Aspects.of(app).add(new AwsSolutionsChecks());
  return { config, stack, template: Template.fromStack(stack) };
}

/** An empty stack for testing one construct. */
export function bareStack(): Stack {
  return new Stack(new App({ context: SKIP_BUNDLING }), 'Test');
}

/** A stand-in function for constructs that only need something to invoke. */
export function stubFunction(scope: Stack, id: string): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  });
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export const resourcesOf = (template: Template, type: string): Record<string, CfnResource> =>
  template.findResources(type) as Record<string, CfnResource>;

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

/** Every statement of the identity policies attached to one role. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

export const actionsOf = (statements: readonly Statement[]): string[] => statements.flatMap((s) => [s.Action].flat());
