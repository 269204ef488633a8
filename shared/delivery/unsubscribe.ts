/**
 * Ending a WebSocket subscription, and the stream-name check every subscription frame
 * shares. Apart from subscribing so that the unsubscribe route loads no access or
 * @connections client.
 */
import { removeSubscription } from '../connections/store';
import { InvalidRequestError } from '../errors';
import { parseStreamName, type StreamRef } from '../streams/entry';

export interface UnsubscribedFrame {
  readonly type: 'unsubscribed';
  readonly stream: string;
}

export function requireStream(stream: string): StreamRef {
  const ref = parseStreamName(stream);
  if (!ref) throw new InvalidRequestError('stream must be channel:<id>, topic:<id> or conversation:<id>.');
  return ref;
}

export async function unsubscribe(connectionId: string, stream: string): Promise<UnsubscribedFrame> {
  requireStream(stream);
  await removeSubscription(stream, connectionId);
  return { type: 'unsubscribed', stream };
}
