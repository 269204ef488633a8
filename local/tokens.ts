/**
 * The runtime's own token issuer: an RSA key made at start, RS256 tokens for
 * `POST /_local/token`, and the JWKS the verifiers fetch. Verification is never done
 * here: handlers and the HTTP authorizer use aws-jwt-verify against this JWKS.
 */
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';

export interface TokenIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: { keys: Record<string, unknown>[] };
  sign(sub: string, groups: readonly string[], expiresInSeconds: number, nowMs: number): string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function createTokenIssuer(issuer: string, audience: string): TokenIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = (publicKey as KeyObject).export({ format: 'jwk' }) as Record<string, unknown>;
  return {
    issuer,
    audience,
    jwks: { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] },
    sign(sub, groups, expiresInSeconds, nowMs) {
      const iat = Math.floor(nowMs / 1000);
      const header = b64url({ alg: 'RS256', typ: 'JWT', kid });
      // No nbf: verifiers check it against the wall clock, and the runtime clock may run ahead.
      const payload = b64url({ sub, groups, iss: issuer, aud: audience, iat, exp: iat + expiresInSeconds, token_use: 'access', jti: randomUUID() });
      const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey).toString('base64url');
      return `${header}.${payload}.${signature}`;
    },
  };
}
