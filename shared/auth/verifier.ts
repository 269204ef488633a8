/**
 * Verifies bearer tokens with aws-jwt-verify: Cognito access tokens by client_id,
 * other OIDC tokens by aud. Expiry is also held to the shared clock, so the local
 * runtime's injectable clock drives token expiry as it drives everything else.
 */
import { CognitoJwtVerifier, JwtRsaVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, type Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { now } from '../clock';
import { ConfigError, config } from '../config';
import { UnauthenticatedError } from '../errors';
import { principalFromClaims, type Principal } from './principal';

export interface VerifierOptions {
  readonly kind: 'cognito' | 'oidc';
  /** Cognito: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  readonly issuer: string;
  /** Cognito app client ids, or OIDC audiences. */
  readonly audience: readonly string[];
  /** OIDC only; defaults to `${issuer}/.well-known/jwks.json`. */
  readonly jwksUri?: string;
}

export interface TokenVerifier {
  /** The verified payload; rejects on any failed check. */
  verify(token: string): Promise<JwtPayload>;
  /** Pre-loads a JWKS (tests, the local runtime) so no fetch is needed. */
  cacheJwks(jwks: Jwks): void;
}

const COGNITO_ISSUER = /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/([a-z0-9-]+_[0-9A-Za-z]+)$/;

/** The user pool id a Cognito issuer URL names. */
export function cognitoUserPoolId(issuer: string): string {
  const poolId = COGNITO_ISSUER.exec(issuer)?.[1];
  if (!poolId) throw new ConfigError(`JWT_ISSUER is not a Cognito user pool issuer: ${issuer}`);
  return poolId;
}

/** Rejects a token without exp, or whose exp has passed by the shared clock (aws-jwt-verify checks the wall clock). */
const expiryByClock = ({ payload }: { payload: JwtPayload }): void => {
  if (typeof payload.exp !== 'number' || payload.exp * 1000 <= now()) throw new Error('token expired by the shared clock');
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
    const verifier = CognitoJwtVerifier.create({
      userPoolId: cognitoUserPoolId(options.issuer),
      clientId: [...options.audience],
      tokenUse: 'access',
      customJwtCheck: expiryByClock,
    });
    return { verify: (token) => verifier.verify(token), cacheJwks: (jwks) => verifier.cacheJwks(jwks) };
  }
  const verifier = JwtRsaVerifier.create(
    {
      issuer: options.issuer,
      audience: [...options.audience],
      jwksUri: options.jwksUri ?? `${options.issuer}/.well-known/jwks.json`,
      customJwtCheck: expiryByClock,
    },
    { jwksCache: new SimpleJwksCache({ fetcher: platformFetcher }) },
  );
  return { verify: (token) => verifier.verify(token), cacheJwks: (jwks) => verifier.cacheJwks(jwks) };
}

/** The verifier configured for this stage (the local runtime may pre-load its JWKS into it). */
export const tokenVerifier: TokenVerifier = createVerifier({
  kind: config.JWT_KIND,
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
  ...(config.JWT_JWKS_URI ? { jwksUri: config.JWT_JWKS_URI } : {}),
});

/** The caller a token names; UnauthenticatedError (with the library's error as cause) when it is not valid. */
export async function verifyToken(token: string, verifier: TokenVerifier = tokenVerifier): Promise<Principal> {
  let payload: JwtPayload;
  try {
    payload = await verifier.verify(token);
  } catch (cause) {
    throw new UnauthenticatedError('The token is not valid.', { cause });
  }
  const principal = principalFromClaims(payload);
  if (!principal) throw new UnauthenticatedError('The token names no subject.');
  return principal;
}
