/**
 * Broadcast channel posts: publish (idempotent, one transaction with the counter),
 * edit and tombstone (channel admins only).
 */
import { ulid } from 'ulid';
import { z } from 'zod';
import type { Principal } from '../auth/principal';
import { AccessDeniedError, ConflictError, NotFoundError } from '../errors';
import { resolveAttachments } from '../media/attachments';
import { appendEntry, changeEntry, type ChangeInput } from '../streams/allocator';
import { channelStream, toPost, type Post } from '../streams/entry';
import { getEntryById } from '../streams/reading';
import { idempotencyPk, payloadHash, runIdempotent } from '../streams/idempotency';
import { ulidSchema } from '../validation';
import { channelKey, getChannelHead, isChannelAdmin, type ChannelHead } from './channels';


export const MAX_BODY_CHARS = 10_000;
export const MAX_ATTACHMENTS = 10;

/** 1..10,000 characters, counted as Unicode code points. */
export const postBodyTextSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((text) => [...text].length <= MAX_BODY_CHARS, `must be at most ${MAX_BODY_CHARS} characters`);

export const attachmentIdsSchema = z
  .array(ulidSchema)
  .max(MAX_ATTACHMENTS)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id');

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

/** The channel, or 404; 403 unless the principal is one of its admins. */
async function adminChannel(principal: Principal, channelId: string): Promise<ChannelHead> {
  const channel = await getChannelHead(channelId);
  if (!isChannelAdmin(principal, channel)) throw new AccessDeniedError('Only channel admins may do that.');
  return channel;
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

/** Applies `change` to one post of a channel the principal administers (404 for a post of another channel). */
async function changePost(principal: Principal, channelId: string, postId: string, change: ChangeInput['change']): Promise<Post> {
  const channel = await adminChannel(principal, channelId);
  const stream = channelStream(channel.id);
  const current = await getEntryById(stream, postId);
  if (!current) throw new NotFoundError('The post does not exist.');
  const { entry } = await changeEntry({ head: channelKey(channel.id), stream, counters: channel, current, change });
  return toPost(entry, channel.id);
}

/** Replaces a post's text: rev + 1, a new change_seq, edited_at. Channel admins only; a tombstone cannot be edited (409). */
export function editPost(principal: Principal, channelId: string, postId: string, bodyText: string): Promise<Post> {
  return changePost(principal, channelId, postId, (latest, next) => {
    if (latest.is_deleted) throw new ConflictError('The post was deleted.');
    return { ...latest, body_text: bodyText, rev: latest.rev + 1, change_seq: next.change_seq, edited_at: next.changed_at };
  });
}

/**
 * Turns a post into a tombstone (no text, no attachments, same seq, rev + 1). Deleting
 * a tombstone answers the same tombstone and changes nothing.
 */
export function deletePost(principal: Principal, channelId: string, postId: string): Promise<Post> {
  return changePost(principal, channelId, postId, (latest, next) =>
    latest.is_deleted
      ? undefined
      : { ...latest, body_text: null, attachments: [], is_deleted: true, rev: latest.rev + 1, change_seq: next.change_seq, edited_at: next.changed_at },
  );
}
