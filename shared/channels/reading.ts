/**
 * Reading a broadcast channel: its history by seq, its changes by change_seq, one post by
 * id. Every read checks access first (admins: everything; FULL and ARCHIVE_UNTIL: inside
 * their windows; DENY: 403; provider failure: 503) and shows only posts created inside
 * the reader's windows: a post outside them is as absent as an unknown one (404).
 */
import type { AccessDecision, ReadWindow } from '../access/decision';
import { canReadHistory, windowsContain } from '../access/decision';
import { channelAccessFor } from '../access/channel-access';
import type { Principal } from '../auth/principal';
import { AccessDeniedError, NotFoundError } from '../errors';
import { changesAfter } from '../streams/changes';
import { channelStream, toPost, type Post } from '../streams/entry';
import { getEntryById, pageEntries, type PageRequest } from '../streams/reading';
import { getChannelHead, type ChannelHead } from './channels';

export interface PostsPage {
  readonly posts: Post[];
  readonly has_more: boolean;
}

export interface PostChangesPage {
  readonly changes: Post[];
  readonly has_more: boolean;
}

interface Reader {
  readonly channel: ChannelHead;
  readonly stream: string;
  /** Undefined: the whole history. */
  readonly windows: readonly ReadWindow[] | undefined;
}

/**
 * The windows history is read in. ARCHIVE_UNTIL must name its windows; one without any
 * reads nothing (fail closed) rather than everything.
 */
function historyWindows(decision: AccessDecision): readonly ReadWindow[] | undefined {
  if (decision.mode === 'ARCHIVE_UNTIL') return decision.windows ?? [];
  return decision.windows;
}

/** The channel (404 when unknown) and what the principal may read of it (403 on DENY, 503 when the provider fails). */
async function readerOf(principal: Principal, channelId: string): Promise<Reader> {
  const channel = await getChannelHead(channelId);
  const decision = await channelAccessFor(principal, channel);
  if (!canReadHistory(decision)) throw new AccessDeniedError('You may not read this channel.');
  return { channel, stream: channelStream(channel.id), windows: historyWindows(decision) };
}

/** A page of posts by seq (see `pageEntries`): one Query plus the head read, edges aside. */
export async function listPosts(principal: Principal, channelId: string, request: PageRequest): Promise<PostsPage> {
  const { channel, stream, windows } = await readerOf(principal, channelId);
  const page = await pageEntries(stream, channel, request, windows);
  return { posts: page.entries.map((entry) => toPost(entry, channel.id)), has_more: page.has_more };
}

/** The latest state (tombstones included) of readable posts changed after `afterChangeSeq`, ascending by change_seq. */
export async function listChanges(principal: Principal, channelId: string, afterChangeSeq: number, limit: number): Promise<PostChangesPage> {
  const { channel, stream, windows } = await readerOf(principal, channelId);
  const page = await changesAfter(stream, afterChangeSeq, limit, windows);
  return { changes: page.entries.map((entry) => toPost(entry, channel.id)), has_more: page.has_more };
}

/** One post the principal may read (a tombstone stays a tombstone); 404 when unknown or outside the windows. */
export async function getPostForReader(principal: Principal, channelId: string, postId: string): Promise<Post> {
  const { channel, stream, windows } = await readerOf(principal, channelId);
  const entry = await getEntryById(stream, postId);
  if (!entry || !windowsContain(windows, entry.created_at)) throw new NotFoundError('The post does not exist.');
  return toPost(entry, channel.id);
}
