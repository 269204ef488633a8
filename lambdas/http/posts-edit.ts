/** PATCH /v1/channels/{channel_id}/posts/{post_id}: replace a post's text (channel admins). */
import { z } from 'zod';
import { editPost } from '../../shared/channels/post-changes';
import { postBodyTextSchema } from '../../shared/channels/post-input';
import { ulidSchema } from '../../shared/validation';
import { httpRoute } from '../../shared/http/handler';

export const handler = httpRoute(
  {
    body: z.strictObject({ body_text: postBodyTextSchema }),
    params: z.object({ channel_id: ulidSchema, post_id: ulidSchema }),
  },
  async ({ principal, body, params }) => ({
    status: 200,
    body: { post: await editPost(principal, params.channel_id, params.post_id, body.body_text) },
  }),
);
