/**
 * The credential chain a deployed handler needs, standing in for the SDK's default chain
 * (`@aws-sdk/credential-provider-node`) in every bundle (shared/spec/bundling.ts `alias`).
 *
 * Lambda hands a function its execution role's credentials in the environment, or, where it
 * runs functions in containers it manages, at a container credentials endpoint. The default
 * chain also carries SSO, shared-ini, credential_process, web-identity and EC2 metadata
 * sources with the STS and SSO clients they call: 105–135 KB of every minified bundle and
 * ~30–50 ms of every cold start (`npm run bench`, scenario 5) for sources a function never has.
 * Tests that run handlers unbundled use the SDK's default chain; its first link is the same
 * environment source.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { chain, memoize } from '@smithy/core/config';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

type ProviderInit = Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0];

/**
 * Credentials that expire are fetched anew once within five minutes of it, as by the default
 * chain; unlike it, a call then waits for the fetch (only container credentials expire).
 */
const REFRESH_BEFORE_MS = 300_000;

const expiresSoon = (credentials: AwsCredentialIdentity): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < REFRESH_BEFORE_MS;

const expires = (credentials: AwsCredentialIdentity): boolean => credentials.expiration !== undefined;

/** `fromHttp` throws as it is made where no endpoint is configured: made when first asked. */
const fromContainerEndpoint =
  (init: ProviderInit): AwsCredentialIdentityProvider =>
  async () =>
    fromHttp(init)();

/** The name and shape the SDK clients' runtime configuration imports. */
export const defaultProvider = (init: ProviderInit = {}): AwsCredentialIdentityProvider =>
  memoize(chain(fromEnv(init), fromContainerEndpoint(init)), expiresSoon, expires);
