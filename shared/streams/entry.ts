/**
 * The one stored shape of every post and message (the `entries` table), and the two
 * API views of it. Streams are named `<kind>:<id>`: channel, topic, conversation.
 */
export type StreamKind = 'channel' | 'topic' | 'conversation';

export interface Attachment {
  readonly id: string;
  readonly content_type: string;
  readonly size: number;
}

export interface EntryItem {
  readonly stream: string;
  readonly seq: number;
  readonly id: string;
  readonly kind: 'post' | 'message';
  readonly rev: number;
  readonly change_seq: number;
  readonly author_id: string;
  readonly body_text: string | null;
  readonly attachments: readonly Attachment[];
  readonly is_deleted: boolean;
  readonly created_at: string;
  readonly edited_at?: string;
  readonly client_msg_id?: string;
  readonly reply_to_seq?: number;
  readonly tip?: { readonly amount_cents: number };
}

export type EntryOp = 'created' | 'updated' | 'deleted';

export interface StreamRef {
  readonly kind: StreamKind;
  readonly id: string;
}

const STREAM_NAME = /^(channel|topic|conversation):([0-9A-HJKMNP-TV-Z]{26})$/;

export function streamName(ref: StreamRef): string {
  return `${ref.kind}:${ref.id}`;
}

export function channelStream(channelId: string): string {
  return streamName({ kind: 'channel', id: channelId });
}

/** Parses `channel:<ulid>` etc.; undefined when the name is not a stream. */
export function parseStreamName(name: string): StreamRef | undefined {
  const match = STREAM_NAME.exec(name);
  return match ? { kind: match[1] as StreamKind, id: match[2] as string } : undefined;
}

/** The op a change represents, derived from the stored entry (NEW_IMAGE is enough). */
export function opOf(entry: Pick<EntryItem, 'rev' | 'is_deleted'>): EntryOp {
  if (entry.is_deleted) return 'deleted';
  return entry.rev === 1 ? 'created' : 'updated';
}

/** A channel's view of an entry (API.md "post"). */
export type Post = Pick<EntryItem, 'id' | 'seq' | 'rev' | 'change_seq' | 'author_id' | 'body_text' | 'attachments' | 'is_deleted' | 'created_at' | 'edited_at'> & {
  readonly channel_id: string;
};

export function toPost(entry: EntryItem, channelId: string): Post {
  return {
    id: entry.id,
    channel_id: channelId,
    seq: entry.seq,
    rev: entry.rev,
    change_seq: entry.change_seq,
    author_id: entry.author_id,
    body_text: entry.is_deleted ? null : entry.body_text,
    attachments: entry.is_deleted ? [] : entry.attachments,
    is_deleted: entry.is_deleted,
    created_at: entry.created_at,
    ...(entry.edited_at ? { edited_at: entry.edited_at } : {}),
  };
}
