/** $default: an unknown action or a malformed frame gets an error frame; the connection stays open. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { InvalidRequestError } from '../../shared/errors';
import { errorFrame, frameResponse, type WsEvent } from '../../shared/ws/handler';

function describe(body: string | undefined): string {
  try {
    const frame = JSON.parse(body ?? '') as unknown;
    if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return 'A frame must be a JSON object with an action.';
    const action = (frame as { action?: unknown }).action;
    return typeof action === 'string' ? `Unknown action "${action.slice(0, 64)}".` : 'A frame must name its action.';
  } catch {
    return 'The frame is not valid JSON.';
  }
}

export const handler = async (event: WsEvent): Promise<APIGatewayProxyResultV2> =>
  frameResponse(errorFrame(new InvalidRequestError(describe(event.body))));
