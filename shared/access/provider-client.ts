/**
 * Client of the access-provider contract (API.md): invokes the configured function,
 * validates its answer, caches decisions per (user, channel) for their ttl, and fails
 * closed: an error, FunctionError, timeout, throttle or malformed answer is
 * AccessProviderUnavailableError, never a grant.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import { lambda } from '../clients/lambda';
import { now } from '../clock';
import { config } from '../config';
import { AccessProviderUnavailableError } from '../errors';
import { logger } from '../logger';
import { MAX_DECISION_TTL_SECONDS, type AccessDecision } from './decision';

export const PROVIDER_TIMEOUT_MS = 1000;
export const DEFAULT_TTL_SECONDS = 30;

const instant = z.string().datetime({ offset: true });
const WindowSchema = z.object({ start: instant.optional(), end: instant.optional() });

export const ProviderAnswerSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('FULL'), read_windows: z.array(WindowSchema).optional(), ttl_seconds: z.number().min(0).optional() }),
  z.object({ mode: z.literal('ARCHIVE_UNTIL'), read_windows: z.array(WindowSchema).min(1), ttl_seconds: z.number().min(0).optional() }),
  z.object({ mode: z.literal('DENY'), read_windows: z.array(WindowSchema).optional(), ttl_seconds: z.number().min(0).optional() }),
]);

export type ProviderAnswer = z.infer<typeof ProviderAnswerSchema>;

const cache = new Map<string, AccessDecision>();

/** Normalises windows to ISO-8601 UTC so comparisons are plain string/number work downstream. */
function normaliseWindows(windows: ProviderAnswer['read_windows']): AccessDecision['windows'] {
  return windows?.map((w) => ({
    ...(w.start ? { start: new Date(w.start).toISOString() } : {}),
    ...(w.end ? { end: new Date(w.end).toISOString() } : {}),
  }));
}

export function decisionFrom(answer: ProviderAnswer, at: number): AccessDecision {
  const ttl = Math.min(answer.ttl_seconds ?? DEFAULT_TTL_SECONDS, MAX_DECISION_TTL_SECONDS);
  const expiresAt = at + ttl * 1000;
  if (answer.mode === 'DENY') return { mode: 'DENY', expiresAt };
  const windows = normaliseWindows(answer.read_windows);
  return { mode: answer.mode, ...(windows ? { windows } : {}), expiresAt };
}

/** The call, aborted and rejected after PROVIDER_TIMEOUT_MS whether or not the transport honours the abort. */
function withTimeout<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`access provider gave no answer within ${PROVIDER_TIMEOUT_MS} ms`));
    }, PROVIDER_TIMEOUT_MS);
  });
  return Promise.race([call(controller.signal), timeout]).finally(() => clearTimeout(timer));
}

async function invokeProvider(userId: string, channelId: string): Promise<ProviderAnswer> {
  let payload: unknown;
  try {
    const out = await withTimeout((abortSignal) =>
      lambda.send(
        new InvokeCommand({
          FunctionName: config.ACCESS_PROVIDER_FUNCTION,
          Payload: new TextEncoder().encode(JSON.stringify({ type: 'CanReadChannel', user_id: userId, channel_id: channelId })),
        }),
        { abortSignal },
      ),
    );
    if (out.FunctionError) throw new Error(`provider function error: ${out.FunctionError}`);
    payload = JSON.parse(new TextDecoder().decode(out.Payload));
  } catch (cause) {
    logger.warn('access provider unavailable', { user_id: userId, channel_id: channelId, error: String(cause) });
    throw new AccessProviderUnavailableError(undefined, { cause });
  }
  const parsed = ProviderAnswerSchema.safeParse(payload);
  if (!parsed.success) {
    logger.warn('access provider answered malformed', { user_id: userId, channel_id: channelId });
    throw new AccessProviderUnavailableError(undefined, { cause: parsed.error });
  }
  return parsed.data;
}

/** The provider's decision for (user, channel), from the cache while it lasts. */
export async function providerDecision(userId: string, channelId: string): Promise<AccessDecision> {
  const key = `${userId}\u0000${channelId}`;
  const cached = cache.get(key);
  const at = now();
  if (cached && cached.expiresAt > at) return cached;
  const decision = decisionFrom(await invokeProvider(userId, channelId), at);
  cache.set(key, decision);
  return decision;
}

/** Forget every cached decision (tests). */
export function clearDecisionCache(): void {
  cache.clear();
}
