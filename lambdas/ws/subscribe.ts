/** WebSocket route `subscribe`: `{action: "subscribe", stream, after_change_seq?}` → catch-up deltas, then `subscribed`. */
import { z } from 'zod';
import { subscribe } from '../../shared/delivery/subscribe';
import { wsRoute } from '../../shared/ws/handler';

export const handler = wsRoute(
  z.strictObject({
    action: z.literal('subscribe'),
    stream: z.string().min(1).max(200),
    after_change_seq: z.number().int().min(0).optional(),
  }),
  async ({ frame, connectionId, principal }) => ({ ...(await subscribe(principal, connectionId, frame.stream, frame.after_change_seq)) }),
);
