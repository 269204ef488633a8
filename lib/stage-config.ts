/**
 * Per-stage configuration, validated at synth: a bad value fails `cdk synth` with a
 * message naming the field, never a half-built template.
 *
 * Sources, later wins: the stage's defaults below, the stage's object in cdk.json
 * (`"stage:<stage>": {…}`), then flat context keys (`-c key=value`). docs/deploy.md
 * lists every key.
 */
import { z } from 'zod';

export const STAGES = ['dev', 'prod'] as const;
export type StageName = (typeof STAGES)[number];

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;
const CONTENT_TYPE = /^[a-z]+\/[a-z0-9.+-]+$/;

const Throttle = z.strictObject({ rateLimit: z.number().int().positive(), burstLimit: z.number().int().positive() });

export const StageConfigSchema = z.strictObject({
  stage: z.enum(STAGES),
  /** Prefix of every physical name: `rtl-<stage>`. */
  prefix: z.string().regex(/^rtl-[a-z]+$/),
  /** Retain stateful resources (tables, user pool, buckets, log groups) and turn on deletion protection. */
  retain: z.boolean(),
  /** Days CloudWatch keeps function and API access logs (values CloudWatch accepts). */
  logRetentionDays: z.union([z.literal(7), z.literal(30), z.literal(90), z.literal(180), z.literal(365)]),
  /** Absent: the stack creates a Cognito user pool and app client (JWT_KIND=cognito). */
  oidc: z.strictObject({ issuer: z.string().url().startsWith('https://', 'must be an https URL'), audience: z.array(z.string().min(1)).min(1) }).optional(),
  /** Absent: the shipped default provider function is deployed. */
  accessProviderArn: z.string().regex(LAMBDA_ARN, 'must be a Lambda function ARN').optional(),
  mediaMaxBytes: z.number().int().positive(),
  mediaContentTypes: z.array(z.string().regex(CONTENT_TYPE, 'must be a type/subtype media type')).min(1),
  /** Browser origins allowed by the HTTP API's and the media bucket's CORS rules. */
  corsOrigins: z.array(z.string().min(1)).min(1),
  httpThrottle: Throttle,
  webSocketThrottle: Throttle,
  /** Alarm thresholds, each a sum (or maximum, for queue depth) over 5 minutes. */
  alarms: z.strictObject({
    dlqDepth: z.number().int().min(1),
    lambdaErrors: z.number().int().min(1),
    lambdaThrottles: z.number().int().min(1),
    api5xx: z.number().int().min(1),
  }),
});

export type StageConfig = z.infer<typeof StageConfigSchema>;

const MEDIA_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'video/mp4'];

const DEFAULTS: Record<StageName, Omit<StageConfig, 'stage' | 'prefix'>> = {
  dev: {
    retain: false,
    logRetentionDays: 7,
    mediaMaxBytes: 25 * 1024 * 1024,
    mediaContentTypes: MEDIA_CONTENT_TYPES,
    corsOrigins: ['*'],
    httpThrottle: { rateLimit: 100, burstLimit: 200 },
    webSocketThrottle: { rateLimit: 100, burstLimit: 200 },
    alarms: { dlqDepth: 1, lambdaErrors: 10, lambdaThrottles: 10, api5xx: 10 },
  },
  prod: {
    retain: true,
    logRetentionDays: 90,
    mediaMaxBytes: 25 * 1024 * 1024,
    mediaContentTypes: MEDIA_CONTENT_TYPES,
    corsOrigins: ['*'],
    httpThrottle: { rateLimit: 1000, burstLimit: 2000 },
    webSocketThrottle: { rateLimit: 1000, burstLimit: 2000 },
    alarms: { dlqDepth: 1, lambdaErrors: 5, lambdaThrottles: 1, api5xx: 5 },
  },
};

/** `-c key=a,b` arrives as a string; cdk.json may hold a real array. */
const list = (value: unknown): unknown => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : value);
/** `-c key=123` arrives as a string; cdk.json may hold a number. */
const number = (value: unknown): unknown => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value);

/** Context keys a stage may set (docs/deploy.md). */
export const CONTEXT_KEYS = ['oidcIssuer', 'oidcAudience', 'accessProviderArn', 'mediaMaxBytes', 'mediaContentTypes', 'corsOrigins'] as const;

/**
 * The stage config from CDK context: `stage` (dev | prod, default dev) picks the
 * defaults; each of CONTEXT_KEYS is read from a flat key (`-c key=value`) or else from
 * the stage's own object in cdk.json (`"stage:prod": {"oidcIssuer": …}`).
 */
export function stageConfigFromContext(get: (key: string) => unknown): StageConfig {
  const stage = get('stage') ?? 'dev';
  if (!STAGES.includes(stage as StageName)) {
    throw new Error(`stage config: stage must be one of ${STAGES.join(', ')}, not "${String(stage)}"`);
  }
  const perStage = get(`stage:${String(stage)}`) ?? {};
  if (typeof perStage !== 'object' || Array.isArray(perStage)) throw new Error(`stage config: stage:${String(stage)} must be an object`);
  const unknownKeys = Object.keys(perStage).filter((k) => !(CONTEXT_KEYS as readonly string[]).includes(k));
  if (unknownKeys.length > 0) throw new Error(`stage config: stage:${String(stage)} has unknown keys ${unknownKeys.join(', ')}`);
  const value = (key: (typeof CONTEXT_KEYS)[number]): unknown => get(key) ?? (perStage as Record<string, unknown>)[key];
  const optional = (key: (typeof CONTEXT_KEYS)[number], parse: (v: unknown) => unknown = (v) => v) => {
    const v = value(key);
    return v === undefined ? {} : { [key]: parse(v) };
  };
  const issuer = value('oidcIssuer');
  const audience = value('oidcAudience');
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error('stage config: oidcIssuer and oidcAudience go together');
  }
  return parseStageConfig({
    stage,
    prefix: `rtl-${String(stage)}`,
    ...DEFAULTS[stage as StageName],
    ...(issuer !== undefined ? { oidc: { issuer, audience: list(audience) } } : {}),
    ...optional('accessProviderArn'),
    ...optional('mediaMaxBytes', number),
    ...optional('mediaContentTypes', list),
    ...optional('corsOrigins', list),
  });
}

/** Validates a whole stage config, naming every bad field. */
export function parseStageConfig(candidate: unknown): StageConfig {
  const parsed = StageConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new Error(`stage config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
