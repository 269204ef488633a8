/** GET /v1/channels/{channel_id}/posts?after_seq|before_seq&limit: a page of posts inside the caller's read windows. */
import { z } from 'zod';
import { ulidSchema } from '../../shared/validation';
import { listPosts } from '../../shared/channels/reading';
import { httpRoute } from '../../shared/http/handler';
import { pageQuerySchema } from '../../shared/streams/reading';

export const handler = httpRoute(
  {
    query: pageQuerySchema,
    params: z.object({ channel_id: ulidSchema }),
  },
  async ({ principal, query, params }) => ({
    status: 200,
    body: await listPosts(principal, params.channel_id, query),
  }),
);
