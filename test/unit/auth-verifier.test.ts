import { createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, verifyToken, type TokenVerifier } from '../../shared/auth/verifier';
import { setClock } from '../../shared/clock';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'realtime-layer';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'test-key';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(payload: Record<string, unknown>, options: { key?: typeof privateKey; kid?: string; alg?: string } = {}): string {
  const header = b64({ alg: options.alg ?? 'RS256', typ: 'JWT', kid: options.kid ?? KID });
  const body = b64(payload);
  if (options.alg === 'none') return `${header}.${body}.`;
  const signature = createSign('RSA-SHA256').update(`${header}.${body}`).sign(options.key ?? privateKey).toString('base64url');
  return `${header}.${body}.${signature}`;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({ sub: 'ana', iss: ISSUER, aud: AUDIENCE, iat: nowSeconds(), exp: nowSeconds() + 600, groups: ['platform_admin'], jti: randomUUID(), ...overrides });

let verifier: TokenVerifier;

beforeAll(() => {
  verifier = createVerifier({ kind: 'oidc', issuer: ISSUER, audience: [AUDIENCE], jwksUri: `${ISSUER}/jwks.json` });
  verifier.cacheJwks({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] });
});

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

describe('bearer token verification', () => {
  it('accepts a valid token and reads the user and groups from it', async () => {
    await expect(verifyToken(sign(claims()), verifier)).resolves.toEqual({ userId: 'ana', groups: ['platform_admin'] });
  });

  it.each([
    ['an expired token', () => sign(claims({ exp: nowSeconds() - 10 }))],
    ['a token from another issuer', () => sign(claims({ iss: 'https://evil.test' }))],
    ['a token for another audience', () => sign(claims({ aud: 'someone-else' }))],
    ['a token whose payload was changed after signing', () => {
      const [h, , s] = sign(claims()).split('.');
      return `${h}.${b64(claims({ sub: 'mallory' }))}.${s}`;
    }],
    ['an unsigned token (alg none)', () => sign(claims(), { alg: 'none' })],
    ['a token signed by an unknown key', () => sign(claims(), { key: other.privateKey, kid: 'unknown' })],
    ['a token signed by another key under the known kid', () => sign(claims(), { key: other.privateKey })],
    ['garbage', () => 'not.a.jwt'],
  ])('rejects %s as unauthenticated', async (_name, make) => {
    await expect(verifyToken(make(), verifier)).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('holds expiry to the shared clock, so a runtime clock moved forward expires tokens', async () => {
    const token = sign(claims({ exp: nowSeconds() + 60 }));
    await expect(verifyToken(token, verifier)).resolves.toMatchObject({ userId: 'ana' });
    restore = setClock(() => Date.now() + 61_000);
    await expect(verifyToken(token, verifier)).rejects.toMatchObject({ status: 401 });
  });
});
