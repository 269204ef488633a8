import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TeamFunction } from '../../lib/constructs/team-function';
import { BUNDLING } from '../../shared/spec/bundling';
import { actionsOf, bareStack, logicalIdOf, resourcesOf, statementsOfRole } from './helpers';

/** What a deployed handler's configuration needs at import (values never reach AWS here). */
const HANDLER_CONFIG = {
  TABLE_CATALOG: 'catalog',
  TABLE_ENTRIES: 'entries',
  TABLE_CONNECTIONS: 'connections',
  TABLE_IDEMPOTENCY: 'idempotency',
  TABLE_ENTITLEMENTS: 'entitlements',
  FANOUT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/fanout',
  CONNECTIONS_ENDPOINT: 'https://example.execute-api.us-east-1.amazonaws.com/test',
  MEDIA_BUCKET: 'media',
  EVENT_BUS_NAME: 'bus',
  PUSH_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:push',
  ACCESS_PROVIDER_FUNCTION: 'access-provider',
  JWT_KIND: 'oidc',
  JWT_ISSUER: 'https://issuer.example.com',
  JWT_AUDIENCE: 'app',
};

let template: Template;
let fn: TeamFunction;

beforeAll(() => {
  const stack = bareStack();
  fn = new TeamFunction(stack, 'Ping', {
    handlerEntry: 'ws/ping',
    logRetention: RetentionDays.ONE_WEEK,
    retainLogs: true,
    environment: { STAGE: 'test' },
  });
  template = Template.fromStack(stack);
});

describe('TeamFunction: a Lambda function with the team defaults', () => {
  it('runs on Node.js 22, arm64, with X-Ray tracing active', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
  });

  it('sets the Powertools service name and source-map stack traces beside its own variables', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'realtime-layer', NODE_OPTIONS: '--enable-source-maps', STAGE: 'test' } },
    });
  });

  it('logs to its own log group with the given retention, kept when asked to', () => {
    const [groupId, group] = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'))[0] ?? [];
    expect(group?.Properties.RetentionInDays).toBe(7);
    expect(group?.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: groupId } } });
  });

  it('has a role with no managed policy that may write only to its own log group and send traces', () => {
    const roleId = logicalIdOf(fn.role as never);
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    const statements = statementsOfRole(template, roleId);
    expect(actionsOf(statements).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const logs = statements.find((s) => actionsOf([s]).includes('logs:PutLogEvents'));
    expect(JSON.stringify(logs?.Resource)).toContain('PingLogs');
  });
});

describe('TeamFunction bundling', () => {
  it('bundles minified ESM with the createRequire banner, a source map and its own AWS SDK', () => {
    // One real esbuild run: the other CDK tests skip bundling.
    const app = new App();
    const stack = new Stack(app, 'Bundled');
    new TeamFunction(stack, 'Ping', { handlerEntry: 'ws/ping', logRetention: RetentionDays.ONE_DAY, retainLogs: false });
    app.synth();
    const assets = readdirSync(app.outdir).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const dir = join(app.outdir, assets[0] as string);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith(BUNDLING.banner)).toBe(true);
    expect(code).toMatch(/export\s*\{[^}]*handler/);
    // Lambda's two credential sources stand in for the SDK's default chain and the clients it calls.
    const sources: string[] = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')).sources;
    expect(sources.some((source) => source.endsWith('shared/clients/lambda-credentials.ts'))).toBe(true);
    expect(sources.filter((source) => /credential-provider-(node|ini|sso|process|web-identity)|nested-clients/.test(source))).toEqual([]);
    // The AWS SDK is bundled: copied where no node_modules can be found, the handler still imports.
    const alone = mkdtempSync(join(tmpdir(), 'bundle-alone-'));
    try {
      cpSync(dir, alone, { recursive: true });
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(alone, 'index.mjs')).href)})`], {
        cwd: alone,
        env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1', ...HANDLER_CONFIG },
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });
});
