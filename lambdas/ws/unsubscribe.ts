/** WebSocket route `unsubscribe`: `{action: "unsubscribe", stream}` → `unsubscribed`. */
import { z } from 'zod';
import { unsubscribe } from '../../shared/delivery/unsubscribe';
import { wsRoute } from '../../shared/ws/handler';

export const handler = wsRoute(
  z.strictObject({ action: z.literal('unsubscribe'), stream: z.string().min(1).max(200) }),
  async ({ frame, connectionId }) => ({ ...(await unsubscribe(connectionId, frame.stream)) }),
);
