/**
 * Publishing broadcast channel posts: idempotent, one transaction with the counter,
 * channel admins only (edits and tombstones: ./post-changes).
 */
import { ulid } from 'ulid';
import type { Principal } from '../auth/principal';
import { resolveAttachments } from '../media/attachments';
import { appendEntry } from '../streams/allocator';
import { channelStream, toPost, type Post } from '../streams/entry';
import { idempotencyPk, payloadHash, runIdempotent } from '../streams/idempotency';
import { adminChannel } from './admin';
import { channelKey } from './channels';

/** The idempotency route name of publishing (part of the key's scope). */
export const PUBLISH_ROUTE = 'POST /v1/channels/{channel_id}/posts';

export interface PublishInput {
  readonly channelId: string;
  readonly bodyText: string;
  readonly attachmentIds?: readonly string[];
  readonly idempotencyKey: string;
}

export interface PublishResult {
  readonly status: number;
  readonly body: { readonly post: Post };
  /** True when the key was used before with this payload: the stored answer again. */
  readonly replayed: boolean;
}

/**
 * Publishes a post: one read (the channel head, which is its counter) and one
 * transaction (counter, post, id pointer, idempotency record). A replay costs the same
 * read, the failed transaction, and one read of the record.
 */
export async function publishPost(principal: Principal, input: PublishInput): Promise<PublishResult> {
  const channel = await adminChannel(principal, input.channelId);
  const attachmentIds = input.attachmentIds ?? [];
  const attachments = attachmentIds.length > 0 ? await resolveAttachments(principal, { channel_id: channel.id }, attachmentIds) : [];
  const stream = channelStream(channel.id);
  const id = ulid();
  const pk = idempotencyPk({ actor: principal.userId, route: PUBLISH_ROUTE, scope: channel.id, key: input.idempotencyKey });
  const hash = payloadHash({ body_text: input.bodyText, attachment_ids: attachmentIds });
  const { response, replayed } = await runIdempotent(pk, hash, async (guard) => {
    let stored: { status: number; body: { post: Post } } | undefined;
    await appendEntry({
      head: channelKey(channel.id),
      stream,
      counters: channel,
      build: (position) => ({
        stream,
        seq: position.seq,
        change_seq: position.change_seq,
        id,
        kind: 'post',
        rev: 1,
        author_id: principal.userId,
        body_text: input.bodyText,
        attachments: attachments.map((a) => ({ id: a.id, content_type: a.content_type, size: a.size })),
        is_deleted: false,
        created_at: position.created_at,
      }),
      guards: (entry) => {
        stored = { status: 201, body: { post: toPost(entry, channel.id) } };
        return [guard(stored)];
      },
    });
    if (!stored) throw new Error('publish committed without its response');
    return stored;
  });
  return { status: response.status, body: response.body as { post: Post }, replayed };
}
