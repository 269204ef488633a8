/** GET /v1/channels/{channel_id} → {channel} with its head positions. */
import { z } from 'zod';
import { getChannelHead, toChannel } from '../../shared/channels/channels';
import { ulidSchema } from '../../shared/validation';
import { httpRoute } from '../../shared/http/handler';

export const handler = httpRoute({ params: z.object({ channel_id: ulidSchema }) }, async ({ params }) => ({
  status: 200,
  body: { channel: toChannel(await getChannelHead(params.channel_id)) },
}));
