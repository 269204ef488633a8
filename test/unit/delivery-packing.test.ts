import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { eventBridge } from '../../shared/clients/eventbridge';
import { sqs } from '../../shared/clients/sqs';
import { publishChangeEvents } from '../../shared/delivery/events';
import {
  enqueueDeliveries,
  MAX_MESSAGE_BYTES,
  MAX_POSTS_PER_MESSAGE,
  packMessages,
  parseFanoutMessage,
  type Delivery,
} from '../../shared/delivery/fanout-queue';
import { deltaFrame } from '../../shared/delivery/frames';
import type { EntryItem } from '../../shared/streams/entry';

const sqsMock = mockClient(sqs);
const ebMock = mockClient(eventBridge);

const entry: EntryItem = {
  stream: 'channel:01JCHANNE10000000000000000',
  seq: 12,
  change_seq: 15,
  id: '01JP0ST0000000000000000000',
  kind: 'post',
  rev: 2,
  author_id: 'admin-1',
  body_text: 'secret market call',
  attachments: [{ id: '01JMEDQA000000000000000000', content_type: 'image/png', size: 5 }],
  is_deleted: false,
  created_at: '2026-03-01T12:00:00.000Z',
  edited_at: '2026-03-01T12:01:00.000Z',
};

const ids = (n: number, prefix = 'conn') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}=`);

beforeEach(() => {
  sqsMock.reset();
  ebMock.reset();
});

describe('delta frames', () => {
  it('carry ids and positions only, never content', () => {
    expect(deltaFrame(entry)).toEqual({ type: 'delta', stream: entry.stream, seq: 12, id: entry.id, op: 'updated', rev: 2, change_seq: 15 });
    expect(JSON.stringify(deltaFrame(entry))).not.toContain('secret');
  });

  it('name the op from the stored entry', () => {
    expect(deltaFrame({ ...entry, rev: 1 }).op).toBe('created');
    expect(deltaFrame({ ...entry, rev: 3, is_deleted: true, body_text: null }).op).toBe('deleted');
  });
});

describe('packing deliveries into fan-out messages', () => {
  const frame = deltaFrame(entry);

  it('puts every (connection, frame) target into exactly one message', () => {
    const deliveries: Delivery[] = [
      { frame, connection_ids: ids(1200, 'a') },
      { frame: { ...frame, change_seq: 16 }, connection_ids: ids(30, 'b') },
    ];
    const packed = packMessages(deliveries.map((delivery, i) => ({ tag: `r${i}`, delivery })));
    const targets = packed.flatMap((m) => parseFanoutMessage(m.body).deliveries.flatMap((d) => d.connection_ids.map((c) => `${(d.frame as { change_seq?: number }).change_seq}:${c}`)));
    expect(targets).toHaveLength(1230);
    expect(new Set(targets).size).toBe(1230);
    for (const message of packed) {
      const posts = parseFanoutMessage(message.body).deliveries.reduce((n, d) => n + d.connection_ids.length, 0);
      expect(posts).toBeLessThanOrEqual(MAX_POSTS_PER_MESSAGE);
      expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    }
    // Many connection ids per message: messages grow with targets / 500, not with targets.
    expect(packed).toHaveLength(Math.ceil(1230 / MAX_POSTS_PER_MESSAGE));
  });

  it('tags each message with the deliveries it carries', () => {
    const packed = packMessages([
      { tag: 'r1', delivery: { frame, connection_ids: ids(MAX_POSTS_PER_MESSAGE - 1) } },
      { tag: 'r2', delivery: { frame, connection_ids: ids(2, 'x') } },
    ]);
    expect(packed.map((m) => [...m.tags])).toEqual([['r1', 'r2'], ['r2']]);
  });

  it('keeps messages under the size limit when connection ids are long', () => {
    const long = Array.from({ length: 400 }, (_, i) => `${'c'.repeat(1000)}${i}`);
    const packed = packMessages([{ tag: 'r', delivery: { frame, connection_ids: long } }]);
    expect(packed.length).toBeGreaterThan(1);
    for (const m of packed) expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('sends at most 10 messages per SendMessageBatch and reports the tags of failed entries', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.slice(1).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
      Failed: [{ Id: input.Entries[0]?.Id, Code: 'InternalError', SenderFault: false }],
    }));
    const deliveries = Array.from({ length: 12 }, (_, i) => ({ tag: `r${i}`, delivery: { frame, connection_ids: ids(MAX_POSTS_PER_MESSAGE, `t${i}`) } }));
    const failed = await enqueueDeliveries(deliveries);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length).sort()).toEqual([10, 2]);
    for (const c of calls) expect(c.args[0].input.QueueUrl).toBe('http://127.0.0.1:1/000000000000/test-fanout');
    // The first entry of each batch failed: r0 and r10 (batches are built in order).
    expect([...failed].sort()).toEqual(['r0', 'r10']);
  });

  it('reports every tag of a batch whose call failed', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('throttled'));
    const failed = await enqueueDeliveries([{ tag: 'r1', delivery: { frame, connection_ids: ['a'] } }]);
    expect([...failed]).toEqual(['r1']);
  });

  it('sends nothing when nobody is to receive anything', async () => {
    expect((await enqueueDeliveries([])).size).toBe(0);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});

describe('change events', () => {
  it('puts one ids-only event per change, 10 per PutEvents, and reports failed entries', async () => {
    ebMock.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_, i) => (i === 0 ? { ErrorCode: 'InternalFailure' } : { EventId: 'e' })),
    }));
    const changes = Array.from({ length: 12 }, (_, i) => ({ tag: `r${i}`, entry: { ...entry, change_seq: 100 + i } }));
    const failed = await publishChangeEvents(changes);
    const calls = ebMock.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 2]);
    const first = calls[0]?.args[0].input.Entries?.[0];
    expect(first).toMatchObject({ Source: 'realtime-layer', DetailType: 'entry.updated', EventBusName: 'test-bus' });
    const detail = JSON.parse(first?.Detail ?? '{}') as Record<string, unknown>;
    expect(detail).toMatchObject({ stream: entry.stream, id: entry.id, seq: 12, rev: 2, change_seq: 100, stream_kind: 'channel' });
    expect(first?.Detail).not.toContain('secret');
    expect(first?.Detail).not.toContain('image/png');
    expect([...failed].sort()).toEqual(['r0', 'r10']);
  });
});
