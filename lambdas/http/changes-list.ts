/** GET /v1/channels/{channel_id}/changes?after_change_seq&limit: readable posts changed after N, ascending by change_seq. */
import { z } from 'zod';
import { ulidSchema } from '../../shared/validation';
import { listChanges } from '../../shared/channels/reading';
import { httpRoute } from '../../shared/http/handler';
import { changesQuerySchema } from '../../shared/streams/reading';

export const handler = httpRoute(
  {
    query: changesQuerySchema,
    params: z.object({ channel_id: ulidSchema }),
  },
  async ({ principal, query, params }) => ({
    status: 200,
    body: await listChanges(principal, params.channel_id, query.after_change_seq, query.limit),
  }),
);
