import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessProvider } from '../../lib/constructs/access-provider';
import { Auth } from '../../lib/constructs/auth';
import { Events } from '../../lib/constructs/events';
import { MediaBucket } from '../../lib/constructs/media-bucket';
import { Push } from '../../lib/constructs/push';
import { actionsOf, bareStack, logicalIdOf, resourcesOf, statementsOfRole, stubFunction } from './helpers';

const role = (stack: ReturnType<typeof bareStack>, id: string) => new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
const denyWithoutTls = Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });

describe('MediaBucket: private media behind presigned URLs', () => {
  let template: Template;
  let ids: Record<'bucket' | 'logs' | 'reader' | 'writer', string>;

  beforeAll(() => {
    const stack = bareStack();
    const media = new MediaBucket(stack, 'Media', { retain: true, corsOrigins: ['https://app.example.com'] });
    const reader = role(stack, 'Reader');
    const writer = role(stack, 'Writer');
    media.grantObjects(reader, 'read');
    media.grantObjects(writer, 'write');
    template = Template.fromStack(stack);
    ids = { bucket: logicalIdOf(media.bucket), logs: logicalIdOf(media.accessLogs), reader: logicalIdOf(reader), writer: logicalIdOf(writer) };
  });

  it('blocks all public access and encrypts with S3-managed keys, access logs included', () => {
    for (const bucket of Object.values(resourcesOf(template, 'AWS::S3::Bucket'))) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    }
  });

  it('refuses requests without TLS on both buckets', () => {
    for (const id of [ids.bucket, ids.logs]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', { Bucket: { Ref: id }, PolicyDocument: { Statement: Match.arrayWith([denyWithoutTls]) } });
    }
  });

  it('writes server access logs to the log bucket', () => {
    expect(resourcesOf(template, 'AWS::S3::Bucket')[ids.bucket]?.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: ids.logs }, LogFilePrefix: 'media/' });
  });

  it('lets browsers of the configured origins PUT and GET with presigned URLs', () => {
    const cors = resourcesOf(template, 'AWS::S3::Bucket')[ids.bucket]?.Properties.CorsConfiguration as { CorsRules: Record<string, unknown>[] };
    expect(cors.CorsRules).toEqual([
      expect.objectContaining({ AllowedOrigins: ['https://app.example.com'], AllowedMethods: expect.arrayContaining(['PUT', 'GET']), AllowedHeaders: expect.arrayContaining(['content-type']) }),
    ]);
  });

  it('retains both buckets when asked to (prod)', () => {
    for (const bucket of Object.values(resourcesOf(template, 'AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('grants object reads or object writes only, on the media bucket\'s objects', () => {
    expect(actionsOf(statementsOfRole(template, ids.reader))).toEqual(['s3:GetObject']);
    expect(actionsOf(statementsOfRole(template, ids.writer))).toEqual(['s3:PutObject']);
    for (const statement of [...statementsOfRole(template, ids.reader), ...statementsOfRole(template, ids.writer)]) {
      expect(statement.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/*']] });
    }
  });
});

describe('Push and Events', () => {
  let template: Template;

  beforeAll(() => {
    const stack = bareStack();
    new Push(stack, 'Push', { topicName: 'rtl-test-push' });
    new Events(stack, 'Events', { busName: 'rtl-test-events' });
    template = Template.fromStack(stack);
  });

  it('creates an encrypted push topic that accepts TLS requests only', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'rtl-test-push', KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([denyWithoutTls]) } });
  });

  it('creates the layer\'s own event bus', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'rtl-test-events' });
  });
});

describe('Auth: who signs the tokens', () => {
  it('creates a Cognito user pool with an app client whose id is the audience, retained and protected when asked to', () => {
    const stack = bareStack();
    const auth = new Auth(stack, 'Auth', { userPoolName: 'rtl-test-users', retain: true });
    const template = Template.fromStack(stack);
    expect(auth.kind).toBe('cognito');
    expect(stack.resolve(auth.audience)).toEqual([{ Ref: logicalIdOf(auth.userPoolClient as never) }]);
    expect(JSON.stringify(stack.resolve(auth.issuer))).toContain('cognito-idp.');
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtection: 'ACTIVE', UserPoolName: 'rtl-test-users' }) });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false, PreventUserExistenceErrors: 'ENABLED' });
  });

  it('uses an external OIDC issuer and its audiences without creating a pool', () => {
    const stack = bareStack();
    const auth = new Auth(stack, 'Auth', { userPoolName: 'unused', retain: false, oidc: { issuer: 'https://issuer.example.com', audience: ['a', 'b'] } });
    expect({ kind: auth.kind, issuer: auth.issuer, audience: auth.audience }).toEqual({ kind: 'oidc', issuer: 'https://issuer.example.com', audience: ['a', 'b'] });
    expect(stack.node.findAll().filter((c) => c instanceof cognito.UserPool)).toHaveLength(0);
  });
});

describe('AccessProvider: the function asked CanReadChannel', () => {
  it('grants invoke on the default provider function', () => {
    const stack = bareStack();
    const fn = stubFunction(stack, 'Default');
    const caller = role(stack, 'Caller');
    new AccessProvider(stack, 'Provider', { defaultFunction: fn }).grantInvoke(caller);
    const [statement] = statementsOfRole(Template.fromStack(stack), logicalIdOf(caller));
    expect(statement?.Action).toBe('lambda:InvokeFunction');
    expect(JSON.stringify(statement?.Resource)).toContain(logicalIdOf(fn));
  });

  it('grants invoke on an external provider by ARN, leaving its resource policy to its owner', () => {
    const stack = bareStack();
    const caller = role(stack, 'Caller');
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:billing-access';
    new AccessProvider(stack, 'Provider', { externalArn: arn }).grantInvoke(caller);
    const template = Template.fromStack(stack);
    const [statement] = statementsOfRole(template, logicalIdOf(caller));
    expect(statement?.Action).toBe('lambda:InvokeFunction');
    expect(statement?.Resource).toEqual([arn, `${arn}:*`]);
    expect(Object.keys(template.findResources('AWS::Lambda::Permission'))).toHaveLength(0);
  });

  it('takes either a default function or an external ARN, not both', () => {
    const stack = bareStack();
    expect(() => new AccessProvider(stack, 'Neither', {})).toThrow(/either/);
    expect(() => new AccessProvider(stack, 'Both', { defaultFunction: stubFunction(stack, 'F'), externalArn: 'arn:aws:lambda:us-east-1:123456789012:function:x' })).toThrow(/either/);
  });
});
