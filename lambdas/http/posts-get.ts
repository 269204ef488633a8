/** GET /v1/channels/{channel_id}/posts/{post_id}: one post; 404 when outside the caller's read windows. */
import { z } from 'zod';
import { ulidSchema } from '../../shared/validation';
import { getPostForReader } from '../../shared/channels/reading';
import { httpRoute } from '../../shared/http/handler';

export const handler = httpRoute(
  {
    query: z.strictObject({}),
    params: z.object({ channel_id: ulidSchema, post_id: ulidSchema }),
  },
  async ({ principal, params }) => ({
    status: 200,
    body: { post: await getPostForReader(principal, params.channel_id, params.post_id) },
  }),
);
