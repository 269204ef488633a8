// Configuration every handler module validates at import. Unit tests mock the AWS
// clients (aws-sdk-client-mock); integration tests point them at the local runtime.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_SERVICE_NAME ??= 'realtime-layer-test';
const defaults: Record<string, string> = {
  STAGE: 'test',
  TABLE_CATALOG: 'test-catalog',
  TABLE_ENTRIES: 'test-entries',
  TABLE_CONNECTIONS: 'test-connections',
  TABLE_IDEMPOTENCY: 'test-idempotency',
  TABLE_ENTITLEMENTS: 'test-entitlements',
  FANOUT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/test-fanout',
  CONNECTIONS_ENDPOINT: 'http://127.0.0.1:1/connections',
  MEDIA_BUCKET: 'test-media',
  MEDIA_CONTENT_TYPES: 'image/png,image/jpeg,application/pdf',
  EVENT_BUS_NAME: 'test-bus',
  PUSH_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:test-push',
  ACCESS_PROVIDER_FUNCTION: 'access-provider',
  JWT_KIND: 'oidc',
  JWT_ISSUER: 'http://127.0.0.1:1/_local',
  JWT_AUDIENCE: 'realtime-layer',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
