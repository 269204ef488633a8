/**
 * The server frames of the delivery path. Channel deltas carry ids and positions only:
 * content is fetched over HTTP, which re-checks access.
 */
import { opOf, type EntryItem, type EntryOp } from '../streams/entry';

export interface DeltaFrame {
  readonly type: 'delta';
  readonly stream: string;
  readonly seq: number;
  readonly id: string;
  readonly op: EntryOp;
  readonly rev: number;
  /** With `stream`, the client's dedup key. */
  readonly change_seq: number;
}

export interface AccessChangedFrame {
  readonly type: 'access_changed';
  readonly stream: string;
}

export interface ResetFrame {
  readonly type: 'reset';
  readonly stream: string;
  readonly head_seq: number;
  readonly head_change_seq: number;
}

export type DeliveryFrame = DeltaFrame | AccessChangedFrame | ResetFrame;

/** The delta announcing an entry's latest change (op derived from the stored entry). */
export function deltaFrame(entry: EntryItem): DeltaFrame {
  return {
    type: 'delta',
    stream: entry.stream,
    seq: entry.seq,
    id: entry.id,
    op: opOf(entry),
    rev: entry.rev,
    change_seq: entry.change_seq,
  };
}

export function accessChangedFrame(stream: string): AccessChangedFrame {
  return { type: 'access_changed', stream };
}

export function resetFrame(stream: string, head: { readonly head_seq: number; readonly head_change_seq: number }): ResetFrame {
  return { type: 'reset', stream, head_seq: head.head_seq, head_change_seq: head.head_change_seq };
}
