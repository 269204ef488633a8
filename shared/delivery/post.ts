/**
 * Posting frames to WebSocket connections (@connections). A connection that is gone
 * (410) is reported, not retried: its owner removes it.
 */
import { GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { connectionsApi } from '../clients/connections';
import { settleWithLimit } from './concurrency';
import type { FanoutMessage } from './fanout-queue';
import type { DeliveryFrame } from './frames';

export const POST_CONCURRENCY = 32;

export type PostOutcome = 'sent' | 'gone';

export function isGone(error: unknown): boolean {
  return (
    error instanceof GoneException ||
    (error as { name?: string } | null)?.name === 'GoneException' ||
    (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode === 410
  );
}

const utf8 = new TextEncoder();

/** A frame as the bytes posted: a frame that goes to many connections is encoded once. */
function encodeFrame(frame: DeliveryFrame): Uint8Array {
  return utf8.encode(JSON.stringify(frame));
}

/** Posts one encoded frame; 'gone' when the connection no longer exists. Other failures throw. */
async function postData(connectionId: string, data: Uint8Array): Promise<PostOutcome> {
  try {
    await connectionsApi.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    return 'sent';
  } catch (error) {
    if (isGone(error)) return 'gone';
    throw error;
  }
}

/** Posts one frame; 'gone' when the connection no longer exists. Other failures throw. */
export function postFrame(connectionId: string, frame: DeliveryFrame): Promise<PostOutcome> {
  return postData(connectionId, encodeFrame(frame));
}

export interface FanoutOutcome {
  readonly sent: number;
  /** Connections that answered 410 (each once). */
  readonly gone: string[];
  /** Posts that failed otherwise: the message must be retried. */
  readonly failures: unknown[];
}

/** Posts every frame of a message to each of its connections, `POST_CONCURRENCY` at a time. */
export async function postMessage(message: FanoutMessage): Promise<FanoutOutcome> {
  const posts = message.deliveries.flatMap((d) => {
    const data = encodeFrame(d.frame);
    return d.connection_ids.map((connectionId) => ({ connectionId, data }));
  });
  const results = await settleWithLimit(posts, POST_CONCURRENCY, (p) => postData(p.connectionId, p.data));
  const gone = new Set<string>();
  const failures: unknown[] = [];
  let sent = 0;
  results.forEach((result, i) => {
    if (result.status === 'rejected') failures.push(result.reason);
    else if (result.value === 'gone') gone.add((posts[i] as { connectionId: string }).connectionId);
    else sent += 1;
  });
  return { sent, gone: [...gone], failures };
}
