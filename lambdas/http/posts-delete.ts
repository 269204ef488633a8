/** DELETE /v1/channels/{channel_id}/posts/{post_id}: turn a post into a tombstone (channel admins). */
import { z } from 'zod';
import { deletePost } from '../../shared/channels/post-changes';
import { ulidSchema } from '../../shared/validation';
import { httpRoute } from '../../shared/http/handler';

export const handler = httpRoute(
  { params: z.object({ channel_id: ulidSchema, post_id: ulidSchema }) },
  async ({ principal, params }) => ({
    status: 200,
    body: { post: await deletePost(principal, params.channel_id, params.post_id) },
  }),
);
