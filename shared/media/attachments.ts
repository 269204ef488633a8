/** Attaching uploaded media to an entry: only the uploader's own, completed uploads, in the same scope. */
import { HeadObjectCommand, NotFound } from '@aws-sdk/client-s3';
import type { Principal } from '../auth/principal';
import { s3 } from '../clients/s3';
import { config } from '../config';
import { AccessDeniedError, InvalidRequestError } from '../errors';
import type { Attachment } from '../streams/entry';
import { getMedia } from './media';

async function uploadedObject(key: string): Promise<{ size: number; contentType?: string } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: config.MEDIA_BUCKET, Key: key }));
    return { size: head.ContentLength ?? -1, contentType: head.ContentType };
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
    throw error;
  }
}

export async function resolveAttachments(
  principal: Principal,
  scope: { readonly channel_id: string },
  attachmentIds: readonly string[],
): Promise<Attachment[]> {
  return Promise.all(
    attachmentIds.map(async (id) => {
      const media = await getMedia(id);
      if (media.owner_id !== principal.userId) throw new AccessDeniedError(`Media ${id} belongs to someone else.`);
      if (media.scope_kind !== 'channel' || media.scope_id !== scope.channel_id) {
        throw new InvalidRequestError(`attachment_ids: media ${id} was uploaded for another scope.`);
      }
      const object = await uploadedObject(media.key);
      if (!object) throw new InvalidRequestError(`attachment_ids: the upload of media ${id} is not completed.`);
      if (object.size !== media.size || (object.contentType && object.contentType !== media.content_type)) {
        throw new InvalidRequestError(`attachment_ids: media ${id} does not match what was announced.`);
      }
      return { id: media.media_id, content_type: media.content_type, size: media.size };
    }),
  );
}
