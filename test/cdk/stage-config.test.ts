import { describe, expect, it } from 'vitest';
import { stageConfigFromContext } from '../../lib/stage-config';

const fromContext = (context: Record<string, unknown>) => stageConfigFromContext((key) => context[key]);

describe('stage config from CDK context', () => {
  it('defaults to dev: rtl-dev names, destroyable resources, one week of logs, a Cognito pool and the default provider', () => {
    const config = fromContext({});
    expect(config).toMatchObject({ stage: 'dev', prefix: 'rtl-dev', retain: false, logRetentionDays: 7 });
    expect(config.oidc).toBeUndefined();
    expect(config.accessProviderArn).toBeUndefined();
  });

  it('retains prod resources and keeps its logs three months', () => {
    expect(fromContext({ stage: 'prod' })).toMatchObject({ stage: 'prod', prefix: 'rtl-prod', retain: true, logRetentionDays: 90 });
  });

  it('rejects an unknown stage, naming it', () => {
    expect(() => fromContext({ stage: 'qa' })).toThrow(/stage must be one of dev, prod, not "qa"/);
  });

  it('reads an external OIDC issuer with comma-separated audiences', () => {
    expect(fromContext({ oidcIssuer: 'https://issuer.example.com', oidcAudience: 'app-a, app-b' }).oidc).toEqual({
      issuer: 'https://issuer.example.com',
      audience: ['app-a', 'app-b'],
    });
  });

  it('refuses an issuer without its audience, or one that is not https', () => {
    expect(() => fromContext({ oidcIssuer: 'https://issuer.example.com' })).toThrow(/oidcIssuer and oidcAudience go together/);
    expect(() => fromContext({ oidcIssuer: 'http://issuer.example.com', oidcAudience: 'a' })).toThrow(/oidc\.issuer/);
  });

  it('reads an external access-provider ARN and refuses anything else', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:billing-access:live';
    expect(fromContext({ accessProviderArn: arn }).accessProviderArn).toBe(arn);
    expect(() => fromContext({ accessProviderArn: 'billing-access' })).toThrow(/accessProviderArn: must be a Lambda function ARN/);
  });

  it('takes media limits from the command line (strings) or cdk.json (typed values)', () => {
    expect(fromContext({ mediaMaxBytes: '1048576', mediaContentTypes: 'image/png,image/jpeg' })).toMatchObject({
      mediaMaxBytes: 1048576,
      mediaContentTypes: ['image/png', 'image/jpeg'],
    });
    expect(fromContext({ mediaMaxBytes: 2048, mediaContentTypes: ['application/pdf'], corsOrigins: ['https://app.example.com'] })).toMatchObject({
      mediaMaxBytes: 2048,
      mediaContentTypes: ['application/pdf'],
      corsOrigins: ['https://app.example.com'],
    });
  });

  it('names every bad media field', () => {
    expect(() => fromContext({ mediaMaxBytes: 'lots', mediaContentTypes: 'png' })).toThrow(/mediaMaxBytes: .*; mediaContentTypes\.0: must be a type\/subtype media type/);
  });
});

describe('per-stage context objects', () => {
  const oidc = { oidcIssuer: 'https://login.example.com', oidcAudience: ['prod-app'] };

  it('read a stage\'s own object from cdk.json, and only that stage\'s', () => {
    const context = { 'stage:prod': { ...oidc, mediaMaxBytes: 4096 } };
    expect(fromContext({ ...context, stage: 'prod' })).toMatchObject({ oidc: { issuer: 'https://login.example.com', audience: ['prod-app'] }, mediaMaxBytes: 4096 });
    expect(fromContext({ ...context, stage: 'dev' }).oidc).toBeUndefined();
  });

  it('yield to a flat key given on the command line', () => {
    expect(fromContext({ stage: 'prod', 'stage:prod': { mediaMaxBytes: 4096 }, mediaMaxBytes: '8192' }).mediaMaxBytes).toBe(8192);
  });

  it('refuse keys the stage config does not know', () => {
    expect(() => fromContext({ stage: 'prod', 'stage:prod': { retain: false } })).toThrow(/stage:prod has unknown keys retain/);
  });
});
