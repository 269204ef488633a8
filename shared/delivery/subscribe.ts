/**
 * WebSocket subscriptions to a stream. The subscription is stored before the catch-up
 * is read, so no change falls between the two (a change in both arrives twice; clients
 * dedup by (stream, change_seq)). ARCHIVE_UNTIL readers get the catch-up inside their
 * windows but no stored live subscription.
 */
import { receivesLive, type AccessDecision } from '../access/decision';
import { channelAccessFor } from '../access/channel-access';
import type { Principal } from '../auth/principal';
import { getChannelHead } from '../channels/channels';
import { putSubscription, removeSubscription } from '../connections/store';
import { AccessDeniedError, InvalidRequestError } from '../errors';
import { changesAfter } from '../streams/changes';
import type { StreamRef } from '../streams/entry';
import { deltaFrame, resetFrame } from './frames';
import { postFrame } from './post';
import { requireStream } from './unsubscribe';

/** Catch-up deltas sent on subscribe; beyond them, one reset tells the client to sync over HTTP. */
export const MAX_CATCH_UP = 500;

export interface SubscribedFrame {
  readonly type: 'subscribed';
  readonly stream: string;
  readonly head_seq: number;
  readonly head_change_seq: number;
  readonly live: boolean;
}

interface StreamAccess {
  readonly decision: AccessDecision;
  readonly head_seq: number;
  readonly head_change_seq: number;
}

/** The caller's access to a stream and its head; 404 when unknown, 403 on DENY, 503 when the provider fails. */
async function accessTo(principal: Principal, ref: StreamRef): Promise<StreamAccess> {
  if (ref.kind !== 'channel') throw new InvalidRequestError(`Subscribing to ${ref.kind} streams is not supported.`);
  const channel = await getChannelHead(ref.id);
  const decision = await channelAccessFor(principal, channel);
  if (decision.mode === 'DENY') throw new AccessDeniedError('You may not read this stream.');
  return { decision, head_seq: channel.head_seq, head_change_seq: channel.head_change_seq };
}

/**
 * Subscribes a connection: checks access, stores the live subscription (FULL only),
 * posts the catch-up after `afterChangeSeq` to the connection (ascending change_seq,
 * at most 500, then a reset), and answers the `subscribed` frame.
 */
export async function subscribe(
  principal: Principal,
  connectionId: string,
  stream: string,
  afterChangeSeq: number | undefined,
): Promise<SubscribedFrame> {
  const ref = requireStream(stream);
  const { decision, ...head } = await accessTo(principal, ref);
  const live = receivesLive(decision);
  if (live) {
    await putSubscription({
      stream,
      connection_id: connectionId,
      user_id: principal.userId,
      mode: 'FULL',
      windows: decision.windows,
      decision_expires_at: decision.expiresAt,
      groups: principal.groups,
    });
  } else {
    // A live subscription left from when this reader had FULL access ends now.
    await removeSubscription(stream, connectionId);
  }
  let headSeq = head.head_seq;
  let headChangeSeq = head.head_change_seq;
  if (afterChangeSeq !== undefined) {
    const { entries, has_more } = await changesAfter(stream, afterChangeSeq, MAX_CATCH_UP, decision.windows);
    // The head as read may trail what the catch-up saw.
    for (const entry of entries) {
      headSeq = Math.max(headSeq, entry.seq);
      headChangeSeq = Math.max(headChangeSeq, entry.change_seq);
    }
    // In order, one at a time: catch-up frames arrive ascending by change_seq.
    for (const entry of entries) {
      if ((await postFrame(connectionId, deltaFrame(entry))) === 'gone') break;
    }
    if (has_more) await postFrame(connectionId, resetFrame(stream, { head_seq: headSeq, head_change_seq: headChangeSeq }));
  }
  return { type: 'subscribed', stream, head_seq: headSeq, head_change_seq: headChangeSeq, live };
}
