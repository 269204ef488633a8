/**
 * $default: frames no route matched (an unknown or missing action; malformed JSON is
 * answered by wsRoute itself) get an invalid_request error frame; the connection stays open.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../shared/errors';
import { wsRoute } from '../../shared/ws/handler';

function whyUnroutable(frame: unknown): string {
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return 'A frame must be a JSON object with an action.';
  const action = (frame as { action?: unknown }).action;
  return typeof action === 'string' ? `Unknown action "${action.slice(0, 64)}".` : 'A frame must name its action.';
}

export const handler = wsRoute(z.unknown(), async ({ frame }) => {
  throw new InvalidRequestError(whyUnroutable(frame));
});
