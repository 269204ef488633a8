/** `{action: "ping"}` → `{type: "pong"}`; also the presence heartbeat. */
import { z } from 'zod';
import { touchConnection } from '../../shared/connections/store';
import { wsRoute } from '../../shared/ws/handler';

export const handler = wsRoute(z.strictObject({ action: z.literal('ping') }), async ({ connectionId, principal }) => {
  await touchConnection(connectionId, principal.userId);
  return { type: 'pong' };
});
