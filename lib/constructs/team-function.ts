import { AssetStaging, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { resolve } from 'node:path';
import { BUNDLING } from '../../shared/spec/bundling';

export interface TeamFunctionProps
  extends Omit<NodejsFunctionProps, 'entry' | 'handler' | 'runtime' | 'architecture' | 'bundling' | 'logGroup' | 'role' | 'tracing'> {
  /** Handler file under `lambdas/`, without extension (`http/posts-get`). */
  readonly handlerEntry: string;
  /** How long CloudWatch keeps the function's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Keep the log group when the stack is deleted (production). */
  readonly retainLogs: boolean;
  /** Powertools service name; defaults to `realtime-layer`. */
  readonly serviceName?: string;
}

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Timeout of a function whose spec names none. */
export const DEFAULT_TIMEOUT = Duration.seconds(10);

/**
 * A Lambda function with the team's defaults: Node.js 22 on arm64, X-Ray tracing, its
 * own log group with retention, an execution role that may write only to that log
 * group (no managed policy), and the bundling the cold-start bench measures
 * (shared/spec/bundling.ts: minified ESM with source maps and a `createRequire` banner).
 */
export class TeamFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: TeamFunctionProps) {
    const { handlerEntry, logRetention, retainLogs, serviceName, environment, ...rest } = props;
    // Created beside the function: NodejsFunction takes both at construction.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logRetention,
      removalPolicy: retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      memorySize: 512,
      timeout: DEFAULT_TIMEOUT,
      ...rest,
      entry: resolve(ROOT, 'lambdas', `${handlerEntry}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      depsLockFilePath: resolve(ROOT, 'package-lock.json'),
      projectRoot: ROOT,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName ?? 'realtime-layer',
        NODE_OPTIONS: BUNDLING.nodeOptions,
        ...environment,
      },
      bundling: {
        target: BUNDLING.target,
        format: OutputFormat.ESM,
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        sourcesContent: BUNDLING.sourcesContent,
        externalModules: [...BUNDLING.externalModules],
        mainFields: [...BUNDLING.mainFields],
        banner: BUNDLING.banner,
        esbuildArgs: { '--alias': Object.entries(BUNDLING.alias).map(([from, to]) => `${from}=${to}`) },
        // Where the project root is mounted when CDK falls back to Docker (esbuild not installed): alias paths resolve from it.
        workingDirectory: AssetStaging.BUNDLING_INPUT_DIR,
      },
    });
    NagSuppressions.addResourceSuppressions(this, [
      { id: 'AwsSolutions-L1', reason: 'Node.js 22 is the runtime the layer is built, bundled (target node22) and tested for; moving on is a deliberate change.' },
    ]);
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (and DynamoDB ListStreams for stream consumers) support no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }
}
