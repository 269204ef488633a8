/**
 * Private media: uploads through presigned PUTs whose content type and length are
 * signed, downloads through presigned GETs issued per user after the same access
 * check as the entry that carries them. Keys are scoped and unguessable.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import type { Principal } from '../auth/principal';
import { getChannelHead, isChannelAdmin } from '../channels/channels';
import { ddb } from '../clients/dynamodb';
import { s3 } from '../clients/s3';
import { now, nowIso } from '../clock';
import { config } from '../config';
import { AccessDeniedError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors';
import { logger } from '../logger';

/** Presigned URLs live at most this long (API.md: ≤ 300 s). */
export const MEDIA_URL_TTL_SECONDS = 300;

export type MediaScope = { readonly channel_id: string } | { readonly conversation_id: string } | { readonly topic_id: string };

export interface MediaItem {
  readonly media_id: string;
  readonly owner_id: string;
  readonly scope_kind: 'channel';
  readonly scope_id: string;
  readonly key: string;
  readonly content_type: string;
  readonly size: number;
  readonly created_at: string;
}

export class MediaNotFoundError extends NotFoundError {
  override readonly name = 'MediaNotFoundError';
}

export const mediaKey = (mediaId: string) => ({ pk: `media#${mediaId}`, sk: 'media' });

export interface UploadTicket {
  readonly media_id: string;
  readonly upload_url: string;
  readonly expires_at: string;
}

/** Registers a media object and returns a presigned PUT for exactly that type and size. */
export async function createUpload(principal: Principal, scope: MediaScope, contentType: string, size: number): Promise<UploadTicket> {
  if (!('channel_id' in scope)) throw new InvalidRequestError('body.scope: only channel media is supported yet.');
  if (!config.MEDIA_CONTENT_TYPES.includes(contentType)) {
    throw new InvalidRequestError(`body.content_type: must be one of ${config.MEDIA_CONTENT_TYPES.join(', ')}`);
  }
  if (size > config.MEDIA_MAX_BYTES) throw new PayloadTooLargeError(`Media may be at most ${config.MEDIA_MAX_BYTES} bytes.`);
  const channel = await getChannelHead(scope.channel_id);
  if (!isChannelAdmin(principal, channel)) throw new AccessDeniedError('Only channel admins may upload channel media.');
  const mediaId = ulid();
  const item: MediaItem = {
    media_id: mediaId,
    owner_id: principal.userId,
    scope_kind: 'channel',
    scope_id: channel.id,
    key: `channel/${channel.id}/${mediaId}-${randomBytes(16).toString('hex')}`,
    content_type: contentType,
    size,
    created_at: nowIso(),
  };
  await ddb.send(new PutCommand({ TableName: config.TABLE_CATALOG, Item: { ...mediaKey(mediaId), ...item } }));
  const uploadUrl = await getSignedUrl(
    s3,
    new PutObjectCommand({ Bucket: config.MEDIA_BUCKET, Key: item.key, ContentType: contentType, ContentLength: size }),
    { expiresIn: MEDIA_URL_TTL_SECONDS, signableHeaders: new Set(['content-type', 'content-length']) },
  );
  return { media_id: mediaId, upload_url: uploadUrl, expires_at: new Date(now() + MEDIA_URL_TTL_SECONDS * 1000).toISOString() };
}

export async function getMedia(mediaId: string): Promise<MediaItem> {
  const { Item } = await ddb.send(new GetCommand({ TableName: config.TABLE_CATALOG, Key: mediaKey(mediaId), ConsistentRead: true }));
  if (!Item) throw new MediaNotFoundError(`Media ${mediaId} does not exist.`);
  return Item as MediaItem;
}

export interface DownloadTicket {
  readonly url: string;
  readonly expires_at: string;
}

/** A presigned GET for one object; the caller has already passed the entry's access check. */
export async function downloadUrl(principal: Principal, media: MediaItem, audit: { stream: string; entry_id: string }): Promise<DownloadTicket> {
  const url = await getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: config.MEDIA_BUCKET,
      Key: media.key,
      ResponseContentDisposition: `attachment; filename="${media.media_id}"`,
      ResponseContentType: media.content_type,
    }),
    { expiresIn: MEDIA_URL_TTL_SECONDS },
  );
  logger.info('media url issued', { user_id: principal.userId, stream: audit.stream, entry_id: audit.entry_id, media_id: media.media_id });
  return { url, expires_at: new Date(now() + MEDIA_URL_TTL_SECONDS * 1000).toISOString() };
}
