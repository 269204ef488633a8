/**
 * Verifies bearer tokens with aws-jwt-verify: Cognito access tokens by client_id,
 * other OIDC tokens by aud. Expiry is also held to the shared clock, so the local
 * runtime's injectable clock drives token expiry as it drives everything else.
 */
import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { now } from '../clock';
import { config } from '../config';
import { UnauthenticatedError } from '../errors';
import { principalFromClaims, type Principal } from './principal';

export interface VerifierOptions {
  readonly kind: 'cognito' | 'oidc';
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly jwksUri?: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<JwtPayload>;
  /** Pre-loads a JWKS (tests, the local runtime) so no fetch is needed. */
  cacheJwks(jwks: { keys: unknown[] }): void;
}

/** Rejects a token whose exp has passed by the shared clock (aws-jwt-verify checks the wall clock). */
const expiryByClock = ({ payload }: { payload: JwtPayload }) => {
  if (typeof payload.exp !== 'number' || payload.exp * 1000 <= now()) throw new Error('token expired');
};

/**
 * JWKS over the platform's fetch: the library's Node fetcher speaks https only, and a
 * local or private OIDC issuer may serve plain http on loopback.
 */
const platformFetcher: Fetcher = {
  async fetch(uri) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`JWKS fetch failed: ${res.status}`);
    return res.arrayBuffer();
  },
};

export function createVerifier(options: VerifierOptions): TokenVerifier {
  if (options.kind === 'cognito') {
    const userPoolId = options.issuer.split('/').pop() ?? '';
    const verifier = CognitoJwtVerifier.create({ userPoolId, clientId: [...options.audience], tokenUse: 'access', customJwtCheck: expiryByClock });
    return {
      verify: (token) => verifier.verify(token) as Promise<JwtPayload>,
      cacheJwks: (jwks) => verifier.cacheJwks(jwks as Parameters<typeof verifier.cacheJwks>[0]),
    };
  }
  const verifier = JwtRsaVerifier.create({
    issuer: options.issuer,
    audience: [...options.audience],
    jwksUri: options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`,
    customJwtCheck: expiryByClock,
  }, { jwksCache: new SimpleJwksCache({ fetcher: platformFetcher }) });
  return {
    verify: (token) => verifier.verify(token) as Promise<JwtPayload>,
    cacheJwks: (jwks) => verifier.cacheJwks(jwks as Parameters<typeof verifier.cacheJwks>[0]),
  };
}

const defaultVerifier = createVerifier({
  kind: config.JWT_KIND,
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
  ...(config.JWT_JWKS_URI ? { jwksUri: config.JWT_JWKS_URI } : {}),
});

export async function verifyToken(token: string, verifier: TokenVerifier = defaultVerifier): Promise<Principal> {
  let payload: JwtPayload;
  try {
    payload = await verifier.verify(token);
  } catch (cause) {
    throw new UnauthenticatedError('The token is not valid.', { cause });
  }
  const principal = principalFromClaims(payload as Record<string, unknown>);
  if (!principal) throw new UnauthenticatedError('The token names no subject.');
  return principal;
}
