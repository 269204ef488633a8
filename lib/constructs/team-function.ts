import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { resolve } from 'node:path';
import { BUNDLING } from '../../shared/spec/bundling';

export interface TeamFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'runtime' | 'architecture' | 'bundling' | 'logGroup'> {
  /** Handler file under `lambdas/`, without extension. */
  readonly handlerEntry: string;
  readonly logRetention: logs.RetentionDays;
  readonly retainLogs: boolean;
}

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * A Lambda function with the team's defaults: Node.js 22 on arm64, X-Ray tracing, its
 * own log group with retention, and the bundling the cold-start bench measures
 * (shared/spec/bundling.ts).
 */
export class TeamFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: TeamFunctionProps) {
    const { handlerEntry, logRetention, retainLogs, environment, ...rest } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logRetention,
      removalPolicy: retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      memorySize: 512,
      timeout: Duration.seconds(10),
      ...rest,
      entry: resolve(ROOT, 'lambdas', `${handlerEntry}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      depsLockFilePath: resolve(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        target: BUNDLING.target,
        format: OutputFormat.ESM,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        externalModules: [...BUNDLING.externalModules],
        banner: BUNDLING.banner,
      },
    });
  }
}
