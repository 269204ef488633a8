/**
 * The fan-out queue's message: frames, each with the connections to post it to. The
 * stream router packs many (connection, frame) targets per message and many messages
 * per SendMessageBatch; the fan-out Lambda posts them.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { sqs } from '../clients/sqs';
import { config } from '../config';
import type { DeliveryFrame } from './frames';

export interface Delivery {
  readonly frame: DeliveryFrame;
  readonly connection_ids: readonly string[];
}

export interface FanoutMessage {
  readonly deliveries: readonly Delivery[];
}

/**
 * Posts per message. Each message is one fan-out invocation (batch size 1), so a big
 * audience is posted by many invocations side by side; this also bounds an invocation's
 * duration and a retry's duplicates.
 */
export const MAX_POSTS_PER_MESSAGE = 100;
/** SQS allows 256 KB per message and per batch; leave room for attributes. */
export const MAX_MESSAGE_BYTES = 240 * 1024;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_ENTRIES = 10;
const PARALLEL_BATCHES = 8;
/** `{"frame":,"connection_ids":[]},` around a delivery's frame and ids. */
const DELIVERY_OVERHEAD = 36;
const MESSAGE_OVERHEAD = 20;

/** A delivery with whatever the sender needs to learn it failed (e.g. the stream record it came from). */
export interface TaggedDelivery<T> {
  readonly tag: T;
  readonly delivery: Delivery;
}

export interface PackedMessage<T> {
  readonly body: string;
  readonly tags: ReadonlySet<T>;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Packs deliveries into as few messages as the limits allow, splitting a delivery's connections where needed. */
export function packMessages<T>(deliveries: readonly TaggedDelivery<T>[]): PackedMessage<T>[] {
  const packed: PackedMessage<T>[] = [];
  let parts: Delivery[] = [];
  let tags = new Set<T>();
  let size = MESSAGE_OVERHEAD;
  let posts = 0;
  const close = () => {
    if (parts.length > 0) packed.push({ body: JSON.stringify({ deliveries: parts } satisfies FanoutMessage), tags });
    parts = [];
    tags = new Set<T>();
    size = MESSAGE_OVERHEAD;
    posts = 0;
  };
  for (const { tag, delivery } of deliveries) {
    const frameSize = bytes(JSON.stringify(delivery.frame)) + DELIVERY_OVERHEAD;
    let ids: string[] = [];
    const flush = () => {
      if (ids.length > 0) {
        parts.push({ frame: delivery.frame, connection_ids: ids });
        tags.add(tag);
      }
      ids = [];
    };
    for (const id of delivery.connection_ids) {
      const idSize = bytes(JSON.stringify(id)) + 1;
      if (posts + 1 > MAX_POSTS_PER_MESSAGE || size + idSize + (ids.length === 0 ? frameSize : 0) > MAX_MESSAGE_BYTES) {
        flush();
        close();
      }
      if (ids.length === 0) size += frameSize;
      ids.push(id);
      size += idSize;
      posts += 1;
    }
    flush();
  }
  close();
  return packed;
}

/** Groups messages into SendMessageBatch calls: at most 10 entries and 256 KB each. */
function batches<T>(messages: readonly PackedMessage<T>[]): PackedMessage<T>[][] {
  const out: PackedMessage<T>[][] = [];
  let current: PackedMessage<T>[] = [];
  let size = 0;
  for (const message of messages) {
    const messageSize = bytes(message.body);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && size + messageSize > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += messageSize;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Sends the deliveries to the fan-out queue. Returns the tags of deliveries that may
 * not have been queued (their sender retries them); empty when all were.
 */
export async function enqueueDeliveries<T>(deliveries: readonly TaggedDelivery<T>[]): Promise<Set<T>> {
  const failed = new Set<T>();
  const pending = batches(packMessages(deliveries));
  const worker = async () => {
    for (let batch = pending.shift(); batch; batch = pending.shift()) {
      const entries: SendMessageBatchRequestEntry[] = batch.map((m, i) => ({ Id: String(i), MessageBody: m.body }));
      try {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: config.FANOUT_QUEUE_URL, Entries: entries }));
        for (const failure of result.Failed ?? []) {
          for (const tag of batch[Number(failure.Id)]?.tags ?? []) failed.add(tag);
        }
      } catch {
        for (const message of batch) for (const tag of message.tags) failed.add(tag);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_BATCHES, pending.length) }, worker));
  return failed;
}

const FrameSchema = z.object({ type: z.string(), stream: z.string() }).passthrough();
const MessageSchema = z.object({
  deliveries: z.array(z.object({ frame: FrameSchema, connection_ids: z.array(z.string().min(1)) })),
});

/** Parses a queued message; throws on a malformed one (which then fails alone). */
export function parseFanoutMessage(body: string): FanoutMessage {
  return MessageSchema.parse(JSON.parse(body)) as FanoutMessage;
}
