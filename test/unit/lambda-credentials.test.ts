import { SQSClient } from '@aws-sdk/client-sqs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../shared/clients/lambda-credentials';

const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
];

/** A container credentials endpoint, as Lambda serves one where it runs functions in containers. */
let server: Server;
let requests: IncomingHttpHeaders[];
let expiration: Date;

beforeEach(async () => {
  requests = [];
  expiration = new Date(Date.now() + 3_600_000);
  server = createServer((req, res) => {
    requests.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ AccessKeyId: 'ASIA-CONTAINER', SecretAccessKey: 'container-secret', Token: 'container-token', Expiration: expiration.toISOString() }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  // Nothing from the machine running the tests (a CI container has its own credentials endpoint).
  for (const name of CREDENTIAL_VARIABLES) vi.stubEnv(name, undefined);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise((done) => server.close(done));
});

const useContainerEndpoint = (): void => {
  vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`);
  vi.stubEnv('AWS_CONTAINER_AUTHORIZATION_TOKEN', 'container-auth');
};

describe("a deployed handler's credential chain", () => {
  it("resolves the execution role's credentials from the environment", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIA-ENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'env-token');
    useContainerEndpoint();
    expect(await defaultProvider()()).toMatchObject({ accessKeyId: 'ASIA-ENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' });
    expect(requests).toHaveLength(0);
  });

  it('falls back to the container credentials endpoint, sending its authorization token', async () => {
    useContainerEndpoint();
    const credentials = await defaultProvider()();
    expect(credentials).toMatchObject({ accessKeyId: 'ASIA-CONTAINER', secretAccessKey: 'container-secret', sessionToken: 'container-token' });
    expect(credentials.expiration?.toISOString()).toBe(expiration.toISOString());
    expect(requests.map((headers) => headers.authorization)).toEqual(['container-auth']);
  });

  it('asks the endpoint once while its credentials are fresh', async () => {
    useContainerEndpoint();
    const provider = defaultProvider();
    await Promise.all([provider(), provider()]);
    await provider();
    expect(requests).toHaveLength(1);
  });

  it('asks again for credentials that expire within five minutes', async () => {
    useContainerEndpoint();
    expiration = new Date(Date.now() + 240_000);
    const provider = defaultProvider();
    await provider();
    const asked = requests.length;
    await provider();
    expect(requests.length).toBeGreaterThan(asked);
  });

  it('fails when neither the environment nor an endpoint has credentials', async () => {
    await expect(defaultProvider()()).rejects.toThrow(/AWS_CONTAINER_CREDENTIALS_FULL_URI/);
  });

  it('is what an SDK client resolves its credentials with when given as its default provider', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIA-ENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    const client = new SQSClient({ region: 'us-east-1', credentialDefaultProvider: defaultProvider });
    expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'ASIA-ENV', secretAccessKey: 'env-secret' });
    client.destroy();
  });
});
