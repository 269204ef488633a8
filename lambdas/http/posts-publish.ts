/** POST /v1/channels/{channel_id}/posts: publish a post (channel admins; Idempotency-Key required). */
import { z } from 'zod';
import { attachmentIdsSchema, postBodyTextSchema } from '../../shared/channels/post-input';
import { publishPost } from '../../shared/channels/posts';
import { ulidSchema } from '../../shared/validation';
import { httpRoute } from '../../shared/http/handler';
import { REPLAYED_HEADER, requireIdempotencyKey } from '../../shared/streams/idempotency';

export const handler = httpRoute(
  {
    body: z.strictObject({ body_text: postBodyTextSchema, attachment_ids: attachmentIdsSchema.optional() }),
    params: z.object({ channel_id: ulidSchema }),
  },
  async ({ principal, body, params, headers }) => {
    const idempotencyKey = requireIdempotencyKey(headers);
    const result = await publishPost(principal, {
      channelId: params.channel_id,
      bodyText: body.body_text,
      attachmentIds: body.attachment_ids,
      idempotencyKey,
    });
    return { status: result.status, body: result.body, headers: result.replayed ? { [REPLAYED_HEADER]: 'true' } : undefined };
  },
);
