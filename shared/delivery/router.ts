/**
 * From committed changes to deliveries: who receives each delta. Only live (FULL)
 * subscriptions whose stored windows hold the entry's created_at receive it. A
 * subscription whose decision expired is asked again first; one that lost live access
 * gets `access_changed` and is removed. Access that cannot be checked delivers nothing
 * (fail closed) and keeps the subscription for the next change.
 */
import { windowsContain, type AccessDecision, type ReadWindow } from '../access/decision';
import { channelAccessFor } from '../access/channel-access';
import type { Principal } from '../auth/principal';
import { getChannelHead, type ChannelHead } from '../channels/channels';
import { now } from '../clock';
import { putSubscription, removeSubscription, subscribersOf, type SubscriptionRecord } from '../connections/store';
import { NotFoundError } from '../errors';
import { logger } from '../logger';
import { parseStreamName, type EntryItem, type StreamKind, type StreamRef } from '../streams/entry';
import { settleWithLimit } from './concurrency';
import { publishChangeEvents } from './events';
import { enqueueDeliveries, type Delivery } from './fanout-queue';
import { accessChangedFrame, deltaFrame } from './frames';

/** A subscription that receives live deltas now. */
export interface LiveSubscriber {
  readonly connection_id: string;
  readonly user_id: string;
  readonly windows?: readonly ReadWindow[];
}

const RECHECK_CONCURRENCY = 16;

/** Subscriptions of one user with the same groups share one decision. */
const principalKey = (p: Principal) => `${p.userId}\u0000${[...p.groups].sort().join(',')}`;
const principalOf = (sub: SubscriptionRecord): Principal => ({ userId: sub.user_id, groups: sub.groups ?? [] });

/** Asks the access decisions of principals for one stream again, one settled result per principalKey. */
type Rechecker = (ref: StreamRef, principals: readonly Principal[]) => Promise<Map<string, PromiseSettledResult<AccessDecision>>>;

async function recheckChannel(ref: StreamRef, principals: readonly Principal[]): Promise<Map<string, PromiseSettledResult<AccessDecision>>> {
  const out = new Map<string, PromiseSettledResult<AccessDecision>>();
  let channel: ChannelHead;
  try {
    channel = await getChannelHead(ref.id);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    // The channel is gone: nobody reads it any more.
    for (const principal of principals) out.set(principalKey(principal), { status: 'fulfilled', value: { mode: 'DENY', expiresAt: now() } });
    return out;
  }
  const results = await settleWithLimit(principals, RECHECK_CONCURRENCY, (principal) => channelAccessFor(principal, channel));
  principals.forEach((principal, i) => out.set(principalKey(principal), results[i] as PromiseSettledResult<AccessDecision>));
  return out;
}

const RECHECKERS: Partial<Record<StreamKind, Rechecker>> = { channel: recheckChannel };

/**
 * One invocation's view of who listens to which stream: each stream's subscribers are
 * read (and stale decisions re-checked) once, however many of its changes arrive together.
 */
export class DeliveryRouter {
  private readonly audiences = new Map<string, Promise<LiveSubscriber[]>>();

  /** The delta delivery for one committed change; undefined when nobody may receive it live. */
  async route(entry: EntryItem): Promise<Delivery | undefined> {
    const audience = await this.audience(entry.stream);
    const connectionIds = audience.filter((s) => windowsContain(s.windows, entry.created_at)).map((s) => s.connection_id);
    return connectionIds.length > 0 ? { frame: deltaFrame(entry), connection_ids: connectionIds } : undefined;
  }

  audience(stream: string): Promise<LiveSubscriber[]> {
    let audience = this.audiences.get(stream);
    if (!audience) {
      audience = loadAudience(stream);
      // A failed load is retried by the next record rather than cached.
      audience.catch(() => this.audiences.delete(stream));
      this.audiences.set(stream, audience);
    }
    return audience;
  }
}

async function loadAudience(stream: string): Promise<LiveSubscriber[]> {
  const live: LiveSubscriber[] = [];
  const stale: SubscriptionRecord[] = [];
  const at = now();
  for await (const page of subscribersOf(stream)) {
    for (const sub of page) {
      if (sub.mode !== 'FULL') continue;
      if (sub.decision_expires_at > at) live.push(sub);
      else stale.push(sub);
    }
  }
  if (stale.length > 0) live.push(...(await refresh(stream, stale)));
  return live;
}

/** Re-checks expired decisions: still FULL → stored again and live; otherwise told and removed. */
async function refresh(stream: string, stale: readonly SubscriptionRecord[]): Promise<LiveSubscriber[]> {
  const ref = parseStreamName(stream);
  const recheck = ref && RECHECKERS[ref.kind];
  if (!ref || !recheck) return [];
  const principals = new Map(stale.map((s) => [principalKey(principalOf(s)), principalOf(s)]));
  const decisions = await recheck(ref, [...principals.values()]);
  const renewed: SubscriptionRecord[] = [];
  const ended: SubscriptionRecord[] = [];
  for (const sub of stale) {
    const result = decisions.get(principalKey(principalOf(sub)));
    if (!result || result.status === 'rejected') {
      logger.warn('access re-check failed; no delivery', { stream, user_id: sub.user_id, error: result?.reason as Error });
      continue;
    }
    const decision = result.value;
    if (decision.mode === 'FULL') renewed.push({ ...sub, windows: decision.windows, decision_expires_at: decision.expiresAt });
    else ended.push(sub);
  }
  await settleAll(renewed.map((sub) => putSubscription(sub)));
  if (ended.length > 0) {
    const failed = await enqueueDeliveries([
      { tag: stream, delivery: { frame: accessChangedFrame(stream), connection_ids: ended.map((s) => s.connection_id) } },
    ]);
    if (failed.size > 0) throw new Error(`could not queue access_changed for ${stream}`);
    await settleAll(ended.map((sub) => removeSubscription(stream, sub.connection_id)));
  }
  return renewed.map((sub) => ({ connection_id: sub.connection_id, user_id: sub.user_id, windows: sub.windows }));
}

/** Awaits all; throws the first failure after every promise settled. */
async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** A committed change routed by the stream router, tagged with its stream record's id. */
export interface RoutedChange {
  readonly recordId: string;
  readonly entry: EntryItem;
  readonly delivery?: Delivery;
}

/**
 * Queues every delivery (packed across changes) and puts one EventBridge event per
 * change. Returns the record ids whose delivery or event may be missing: they are
 * retried (at least once; clients dedup by stream and change_seq).
 */
export async function dispatchChanges(changes: readonly RoutedChange[]): Promise<Set<string>> {
  const [undelivered, unannounced] = await Promise.all([
    enqueueDeliveries(changes.flatMap((c) => (c.delivery ? [{ tag: c.recordId, delivery: c.delivery }] : []))),
    publishChangeEvents(changes.map((c) => ({ tag: c.recordId, entry: c.entry }))),
  ]);
  return new Set([...undelivered, ...unannounced]);
}
