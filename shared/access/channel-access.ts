/**
 * The one access rule for a channel, used by every door (HTTP, WebSocket, media,
 * delivery). Channel admins and platform admins read everything without asking.
 */
import { isPlatformAdmin, type Principal } from '../auth/principal';
import { now } from '../clock';
import { MAX_DECISION_TTL_SECONDS, type AccessDecision } from './decision';
import { logger } from '../logger';
import { providerDecision } from './provider-client';

export async function channelAccessFor(
  principal: Principal,
  channel: { readonly id: string; readonly admin_ids: readonly string[] },
): Promise<AccessDecision> {
  if (isPlatformAdmin(principal) || channel.admin_ids.includes(principal.userId)) {
    return { mode: 'FULL', expiresAt: now() + MAX_DECISION_TTL_SECONDS * 1000 };
  }
  const decision = await providerDecision(principal.userId, channel.id);
  // Audit: every denial, cached or fresh, with who and what — never content.
  if (decision.mode === 'DENY') logger.info('access denied', { user_id: principal.userId, channel_id: channel.id });
  return decision;
}
