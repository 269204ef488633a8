import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as authorizer } from '../../lambdas/ws/authorizer';
import { cognitoUserPoolId, createVerifier, tokenVerifier, verifyToken, type TokenVerifier } from '../../shared/auth/verifier';
import { setClock } from '../../shared/clock';
import { config } from '../../shared/config';
import { logger } from '../../shared/logger';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'realtime-layer';
// Port 1 on loopback refuses at once: a JWKS refetch fails fast and never leaves the machine.
const UNREACHABLE_JWKS = 'http://127.0.0.1:1/jwks.json';
const KID = 'test-key';
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwksOf = (publicKey: KeyObject, kid = KID): Jwks =>
  ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] }) as unknown as Jwks;

function sign(payload: Record<string, unknown>, options: { key?: KeyObject; kid?: string; alg?: string } = {}): string {
  const header = b64({ alg: options.alg ?? 'RS256', typ: 'JWT', kid: options.kid ?? KID });
  const body = b64(payload);
  if (options.alg === 'none') return `${header}.${body}.`;
  const signature = createSign('RSA-SHA256').update(`${header}.${body}`).sign(options.key ?? signing.privateKey).toString('base64url');
  return `${header}.${body}.${signature}`;
}

// aws-jwt-verify checks exp and nbf against the wall clock, so tokens are minted around it.
const wallSeconds = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: 'ana',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: wallSeconds(),
  exp: wallSeconds() + 600,
  groups: ['platform_admin'],
  jti: randomUUID(),
  ...overrides,
});

let restoreClock: (() => void) | undefined;
afterEach(() => {
  restoreClock?.();
  restoreClock = undefined;
  vi.restoreAllMocks();
});

describe('bearer token verification (OIDC)', () => {
  let verifier: TokenVerifier;
  beforeAll(() => {
    verifier = createVerifier({ kind: 'oidc', issuer: ISSUER, audience: [AUDIENCE], jwksUri: UNREACHABLE_JWKS });
    verifier.cacheJwks(jwksOf(signing.publicKey));
  });

  it('accepts a valid token and reads the user and groups from it', async () => {
    await expect(verifyToken(sign(claims()), verifier)).resolves.toEqual({ userId: 'ana', groups: ['platform_admin'] });
  });

  it('accepts a token whose aud is a list naming the audience', async () => {
    await expect(verifyToken(sign(claims({ aud: ['other', AUDIENCE] })), verifier)).resolves.toMatchObject({ userId: 'ana' });
  });

  it.each([
    ['an expired token', () => sign(claims({ exp: wallSeconds() - 10 }))],
    ['a token without exp', () => sign(claims({ exp: undefined }))],
    ['a token not valid yet (nbf)', () => sign(claims({ nbf: wallSeconds() + 600 }))],
    ['a token from another issuer', () => sign(claims({ iss: 'https://evil.test' }))],
    ['a token for another audience', () => sign(claims({ aud: 'someone-else' }))],
    [
      'a token whose payload was changed after signing',
      () => {
        const [header, , signature] = sign(claims()).split('.');
        return `${header}.${b64(claims({ sub: 'mallory' }))}.${signature}`;
      },
    ],
    ['an unsigned token (alg none)', () => sign(claims(), { alg: 'none' })],
    ['an HMAC token (alg HS256)', () => sign(claims(), { alg: 'HS256' })],
    ['a token signed by an unknown key', () => sign(claims(), { key: stranger.privateKey, kid: 'unknown' })],
    ['a token signed by another key under the known kid', () => sign(claims(), { key: stranger.privateKey })],
    ['a token without a subject', () => sign(claims({ sub: undefined }))],
    ['garbage', () => 'not.a.jwt'],
  ])('rejects %s as unauthenticated', async (_name, make) => {
    await expect(verifyToken(make(), verifier)).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('holds expiry to the shared clock, so a runtime clock moved forward expires tokens', async () => {
    const token = sign(claims({ exp: wallSeconds() + 60 }));
    await expect(verifyToken(token, verifier)).resolves.toMatchObject({ userId: 'ana' });
    restoreClock = setClock(() => (wallSeconds() + 61) * 1000);
    await expect(verifyToken(token, verifier)).rejects.toMatchObject({ status: 401 });
  });
});

describe('bearer token verification against a JWKS served over http', () => {
  let server: Server;
  let jwksRequests = 0;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    const body = JSON.stringify(jwksOf(signing.publicKey));
    server = createServer((req, res) => {
      jwksRequests += 1;
      if (req.url !== '/_issuer/.well-known/jwks.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_issuer`;
    verifier = createVerifier({ kind: 'oidc', issuer, audience: [AUDIENCE] });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the issuer’s well-known JWKS once and verifies with it', async () => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_issuer`;
    await expect(verifyToken(sign(claims({ iss: issuer })), verifier)).resolves.toMatchObject({ userId: 'ana' });
    await expect(verifyToken(sign(claims({ iss: issuer, sub: 'bo' })), verifier)).resolves.toMatchObject({ userId: 'bo' });
    expect(jwksRequests).toBe(1);
  });

  it('rejects a key id the served JWKS does not hold', async () => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_issuer`;
    await expect(verifyToken(sign(claims({ iss: issuer }), { key: stranger.privateKey, kid: 'unknown' }), verifier)).rejects.toMatchObject({ status: 401 });
  });
});

describe('bearer token verification (Cognito access tokens)', () => {
  const POOL_ID = 'us-east-1_Test123';
  const COGNITO_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`;
  const cognitoClaims = (overrides: Record<string, unknown> = {}) => ({
    sub: 'ana',
    iss: COGNITO_ISSUER,
    client_id: 'app-client',
    token_use: 'access',
    iat: wallSeconds(),
    exp: wallSeconds() + 600,
    'cognito:groups': ['platform_admin'],
    jti: randomUUID(),
    ...overrides,
  });
  let verifier: TokenVerifier;
  beforeAll(() => {
    verifier = createVerifier({ kind: 'cognito', issuer: COGNITO_ISSUER, audience: ['app-client'] });
    verifier.cacheJwks(jwksOf(signing.publicKey));
  });

  it('reads the user pool id from the issuer URL and refuses any other issuer shape', () => {
    expect(cognitoUserPoolId(COGNITO_ISSUER)).toBe(POOL_ID);
    expect(() => cognitoUserPoolId('https://login.example.com/realms/x')).toThrow(/not a Cognito user pool issuer/);
  });

  it('accepts an access token for the app client, with its cognito:groups', async () => {
    await expect(verifyToken(sign(cognitoClaims()), verifier)).resolves.toEqual({ userId: 'ana', groups: ['platform_admin'] });
  });

  it.each([
    ['an id token', () => sign(cognitoClaims({ token_use: 'id', aud: 'app-client', client_id: undefined }))],
    ['a token for another app client', () => sign(cognitoClaims({ client_id: 'other-client' }))],
    ['a token from another user pool', () => sign(cognitoClaims({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }))],
  ])('rejects %s', async (_name, make) => {
    await expect(verifyToken(make(), verifier)).rejects.toMatchObject({ status: 401 });
  });
});

describe('the $connect authorizer', () => {
  const methodArn = 'arn:aws:execute-api:us-east-1:000000000000:api123/test/$connect';
  const connectEvent = (query: Record<string, string>) =>
    ({ type: 'REQUEST', methodArn, queryStringParameters: query }) as unknown as APIGatewayRequestAuthorizerEvent;
  const stageClaims = (overrides: Record<string, unknown> = {}) => claims({ iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE[0], ...overrides });

  // The stage verifier's JWKS URI is unreachable in tests; the runtime's key is pre-loaded instead.
  beforeAll(() => tokenVerifier.cacheJwks(jwksOf(signing.publicKey)));

  it('allows a valid token to connect and hands the user and groups to every route', async () => {
    const token = sign(stageClaims({ groups: ['platform_admin', 'editors'] }));
    await expect(authorizer(connectEvent({ token }))).resolves.toEqual({
      principalId: 'ana',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }] },
      context: { user_id: 'ana', groups: 'platform_admin,editors' },
    });
  });

  it.each([
    ['no token', () => ({})],
    ['an empty token', () => ({ token: '' })],
    ['a malformed token', () => ({ token: 'abc' })],
    ['an expired token', () => ({ token: sign(stageClaims({ exp: wallSeconds() - 10 })) })],
    ['a token for another audience', () => ({ token: sign(stageClaims({ aud: 'someone-else' })) })],
    ['a token signed by an unknown key', () => ({ token: sign(stageClaims(), { key: stranger.privateKey, kid: 'unknown' }) })],
  ])('refuses %s with exactly Unauthorized', async (_name, query) => {
    await expect(authorizer(connectEvent(query()))).rejects.toThrow(/^Unauthorized$/);
  });

  it('never logs the token it refuses', async () => {
    const info = vi.spyOn(logger, 'info');
    const token = sign(stageClaims({ iss: 'https://evil.test' }));
    await expect(authorizer(connectEvent({ token }))).rejects.toThrow('Unauthorized');
    expect(info).toHaveBeenCalledWith('connection refused', { reason: expect.stringContaining('Issuer not allowed') });
    for (const part of token.split('.')) expect(JSON.stringify(info.mock.calls)).not.toContain(part);
  });
});
