/**
 * Configuration, read from the environment and validated once at cold start.
 * This is the only module that reads `process.env` (the AWS SDK reads its own
 * standard variables, such as AWS_REGION and AWS_ENDPOINT_URL_<SERVICE>).
 */
import { z } from 'zod';

const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  );

const ConfigSchema = z.object({
  STAGE: z.string().min(1).default('dev'),
  TABLE_CATALOG: z.string().min(1),
  TABLE_ENTRIES: z.string().min(1),
  TABLE_CONNECTIONS: z.string().min(1),
  TABLE_IDEMPOTENCY: z.string().min(1),
  TABLE_ENTITLEMENTS: z.string().min(1),
  FANOUT_QUEUE_URL: z.string().min(1),
  /** The WebSocket stage's callback URL (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
  CONNECTIONS_ENDPOINT: z.string().url(),
  MEDIA_BUCKET: z.string().min(1),
  MEDIA_MAX_BYTES: z.coerce.number().int().positive().default(25 * 1024 * 1024),
  MEDIA_CONTENT_TYPES: csv,
  EVENT_BUS_NAME: z.string().min(1),
  PUSH_TOPIC_ARN: z.string().min(1),
  ACCESS_PROVIDER_FUNCTION: z.string().min(1),
  /** 'cognito': access tokens checked by client_id; 'oidc': tokens checked by aud. */
  JWT_KIND: z.enum(['cognito', 'oidc']),
  JWT_ISSUER: z.string().url(),
  /** Cognito app client ids, or OIDC audiences. */
  JWT_AUDIENCE: csv.pipe(z.array(z.string()).min(1)),
  /** Defaults to `${JWT_ISSUER}/.well-known/jwks.json`. */
  JWT_JWKS_URI: z.string().url().optional(),
  /** Path-style S3 URLs (the local runtime's S3 endpoint). */
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${fields}`);
  }
  return result.data;
}

export const config: Config = parseConfig(process.env);
