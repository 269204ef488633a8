/**
 * The shipped default access provider (API.md "Access-provider Lambda contract"):
 * CanReadChannel for the layer; RecordSubscription, EndSubscription and
 * SetBackfillPolicy for internal services with IAM rights. Bad input is a typed error
 * whose message names the field (Lambda reports it as a function error).
 */
import { z } from 'zod';
import { endSubscription, entitlementOf, recordSubscription, setBackfillPolicy } from '../shared/access/entitlements';
import { MAX_DECISION_TTL_SECONDS } from '../shared/access/decision';
import { readWindowsFor, secondsUntilNextEdge } from '../shared/access/windows';
import { now } from '../shared/clock';
import { InvalidRequestError } from '../shared/errors';
import { parseWith } from '../shared/validation';

const id = z.string().min(1).max(128);
const instant = z
  .string()
  .datetime({ offset: true })
  .transform((t) => new Date(t).toISOString());

const Request = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('CanReadChannel'), user_id: id, channel_id: id }),
  z.strictObject({ type: z.literal('RecordSubscription'), user_id: id, channel_id: id, start: instant, end: instant.optional() }),
  z.strictObject({ type: z.literal('EndSubscription'), user_id: id, channel_id: id, end: instant }),
  z.strictObject({ type: z.literal('SetBackfillPolicy'), channel_id: id, backfill_days: z.number().int().min(0).max(3650) }),
]);

export const handler = async (event: unknown) => {
  const request = parseWith(Request, event, 'request');
  switch (request.type) {
    case 'CanReadChannel': {
      const { periods, backfillDays } = await entitlementOf(request.user_id, request.channel_id);
      const at = now();
      const answer = readWindowsFor(periods, backfillDays, at);
      return { ...answer, ttl_seconds: secondsUntilNextEdge(periods, at, MAX_DECISION_TTL_SECONDS) };
    }
    case 'RecordSubscription':
      if (request.end !== undefined && request.end < request.start) throw new InvalidRequestError('request.end: must not be before start');
      await recordSubscription(request.user_id, request.channel_id, { start: request.start, ...(request.end ? { end: request.end } : {}) });
      return { ok: true };
    case 'EndSubscription':
      await endSubscription(request.user_id, request.channel_id, request.end);
      return { ok: true };
    case 'SetBackfillPolicy':
      await setBackfillPolicy(request.channel_id, request.backfill_days);
      return { ok: true };
  }
};
