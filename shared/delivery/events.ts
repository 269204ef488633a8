/**
 * One EventBridge event per committed change, for other services: ids and positions
 * only, never content. Sent in PutEvents batches of 10.
 */
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { eventBridge } from '../clients/eventbridge';
import { config } from '../config';
import { opOf, parseStreamName, type EntryItem } from '../streams/entry';

export const EVENT_SOURCE = 'realtime-layer';
const MAX_ENTRIES_PER_CALL = 10;

export interface ChangeEventDetail {
  readonly stream: string;
  readonly stream_kind?: string;
  readonly stream_id?: string;
  readonly id: string;
  readonly kind: EntryItem['kind'];
  readonly seq: number;
  readonly rev: number;
  readonly change_seq: number;
  readonly author_id: string;
  readonly created_at: string;
}

export function changeEvent(entry: EntryItem): PutEventsRequestEntry {
  const ref = parseStreamName(entry.stream);
  const detail: ChangeEventDetail = {
    stream: entry.stream,
    ...(ref ? { stream_kind: ref.kind, stream_id: ref.id } : {}),
    id: entry.id,
    kind: entry.kind,
    seq: entry.seq,
    rev: entry.rev,
    change_seq: entry.change_seq,
    author_id: entry.author_id,
    created_at: entry.created_at,
  };
  return {
    Source: EVENT_SOURCE,
    DetailType: `entry.${opOf(entry)}`,
    Detail: JSON.stringify(detail),
    EventBusName: config.EVENT_BUS_NAME,
  };
}

/** Puts one event per change; returns the tags of changes whose event may not have been put. */
export async function publishChangeEvents<T>(changes: readonly { readonly tag: T; readonly entry: EntryItem }[]): Promise<Set<T>> {
  const failed = new Set<T>();
  const put = async (chunk: readonly { readonly tag: T; readonly entry: EntryItem }[]) => {
    try {
      const result = await eventBridge.send(new PutEventsCommand({ Entries: chunk.map((c) => changeEvent(c.entry)) }));
      if ((result.FailedEntryCount ?? 0) === 0) return;
      // Entries answer in request order; a failed one carries an ErrorCode.
      chunk.forEach((c, i) => {
        const answer = result.Entries?.[i];
        if (!answer || answer.ErrorCode) failed.add(c.tag);
      });
    } catch {
      for (const c of chunk) failed.add(c.tag);
    }
  };
  const chunks = [];
  for (let i = 0; i < changes.length; i += MAX_ENTRIES_PER_CALL) chunks.push(changes.slice(i, i + MAX_ENTRIES_PER_CALL));
  await Promise.all(chunks.map(put));
  return failed;
}
