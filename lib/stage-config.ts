/**
 * Per-stage configuration, validated at synth: a bad stage fails `cdk synth` with a
 * message naming the field, never a half-built template.
 */
import { z } from 'zod';

const Oidc = z.strictObject({ issuer: z.url(), audience: z.array(z.string().min(1)).min(1) });

export const StageConfigSchema = z.strictObject({
  stage: z.enum(['dev', 'prod']),
  /** Absent: the stack creates a Cognito user pool and app client. */
  oidc: Oidc.optional(),
  /** Absent: the shipped default provider function is deployed. */
  accessProviderArn: z.string().regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/).optional(),
  mediaMaxBytes: z.number().int().positive(),
  mediaContentTypes: z.array(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/)).min(1),
  retain: z.boolean(),
  logRetentionDays: z.union([z.literal(7), z.literal(30), z.literal(90), z.literal(365)]),
  alarms: z.strictObject({
    dlqDepth: z.number().int().min(1),
    lambdaErrors: z.number().int().min(1),
    lambdaThrottles: z.number().int().min(1),
    api5xx: z.number().int().min(1),
  }),
});

export type StageConfig = z.infer<typeof StageConfigSchema>;

const DEFAULTS: Record<StageConfig['stage'], Omit<StageConfig, 'stage'>> = {
  dev: {
    mediaMaxBytes: 25 * 1024 * 1024,
    mediaContentTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'video/mp4'],
    retain: false,
    logRetentionDays: 7,
    alarms: { dlqDepth: 1, lambdaErrors: 5, lambdaThrottles: 5, api5xx: 5 },
  },
  prod: {
    mediaMaxBytes: 100 * 1024 * 1024,
    mediaContentTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'video/mp4'],
    retain: true,
    logRetentionDays: 90,
    alarms: { dlqDepth: 1, lambdaErrors: 1, lambdaThrottles: 1, api5xx: 1 },
  },
};

/** Reads `-c stage=…` plus optional `-c oidcIssuer=… -c oidcAudience=a,b -c accessProviderArn=…`. */
export function stageConfigFromContext(get: (key: string) => unknown): StageConfig {
  const stage = String(get('stage') ?? 'dev');
  if (stage !== 'dev' && stage !== 'prod') throw new Error(`stage config: stage must be dev or prod, not "${stage}"`);
  const issuer = get('oidcIssuer');
  const audience = get('oidcAudience');
  const arn = get('accessProviderArn');
  const candidate = {
    stage,
    ...DEFAULTS[stage],
    ...(issuer ? { oidc: { issuer, audience: String(audience ?? '').split(',').filter(Boolean) } } : {}),
    ...(arn ? { accessProviderArn: arn } : {}),
  };
  const parsed = StageConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new Error(`stage config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
