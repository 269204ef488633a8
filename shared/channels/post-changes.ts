/**
 * Edits and tombstones of broadcast posts (channel admins only). Apart from publishing
 * so that these routes load no media (S3) client.
 */
import type { Principal } from '../auth/principal';
import { ConflictError, NotFoundError } from '../errors';
import { changeEntry, type ChangeInput } from '../streams/allocator';
import { channelStream, toPost, type Post } from '../streams/entry';
import { getEntryById } from '../streams/reading';
import { adminChannel } from './admin';
import { channelKey } from './channels';

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
