/**
 * GET /v1/channels/{channel_id}/posts/{post_id}/attachments/{media_id} → {url, expires_at}:
 * issued only after the same access check as the post itself.
 */
import { z } from 'zod';
import { ulidSchema } from '../../shared/validation';
import { getPostForReader } from '../../shared/channels/reading';
import { NotFoundError } from '../../shared/errors';
import { httpRoute } from '../../shared/http/handler';
import { downloadUrl, getMedia } from '../../shared/media/media';

const Params = z.object({ channel_id: ulidSchema, post_id: ulidSchema, media_id: ulidSchema });

export const handler = httpRoute({ params: Params }, async ({ principal, params }) => {
  const post = await getPostForReader(principal, params.channel_id, params.post_id);
  if (post.is_deleted || !post.attachments.some((a) => a.id === params.media_id)) throw new NotFoundError('The attachment does not exist.');
  const media = await getMedia(params.media_id);
  return { status: 200, body: await downloadUrl(principal, media, { stream: `channel:${post.channel_id}`, entry_id: post.id }) };
});
