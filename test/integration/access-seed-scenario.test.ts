/**
 * The seed's scenario on every door: subscribed Jan 1, expired Jan 31, re-subscribed
 * Feb 20, 7-day backfill. Posts inside the gap (Jan 31 < t < Feb 13) are invisible to
 * pages, changes, single GETs, WebSocket catch-up and media URLs; posts on both sides
 * are visible.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../../bench/api';
import { startRuntime, type Runtime } from '../../local/runtime';
import type { EntryItem, Post } from '../../shared/streams/entry';

const POSTS: [string, string][] = [
  ['jan-10', '2026-01-10T12:00:00.000Z'],
  ['jan-31-edge', '2026-01-31T00:00:00.000Z'],
  ['feb-05-gap', '2026-02-05T12:00:00.000Z'],
  ['feb-12-gap', '2026-02-12T23:59:59.999Z'],
  ['feb-13-edge', '2026-02-13T00:00:00.000Z'],
  ['mar-01', '2026-03-01T12:00:00.000Z'],
];
const HIDDEN = new Set(['feb-05-gap', 'feb-12-gap']);

let rt: Runtime;
let channelId: string;
let admin: string;
let reader: string;
const ids = new Map<string, string>();
const mediaOf = new Map<string, string>();

const http = () => api(rt.endpoints.http);
const visibleNames = POSTS.map(([name]) => name).filter((name) => !HIDDEN.has(name));

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  admin = await rt.token('editor', ['platform_admin']);
  reader = await rt.token('subscriber');
  channelId = (await http().call<{ channel: { id: string } }>('POST', '/v1/channels', admin, { name: 'signals' })).body.channel.id;
  const stream = `channel:${channelId}`;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: rt.endpoints.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }));
  const entries: EntryItem[] = POSTS.map(([name, createdAt], i) => {
    const id = ulid(Date.parse(createdAt));
    const mediaId = ulid(Date.parse(createdAt));
    ids.set(name, id);
    mediaOf.set(name, mediaId);
    return {
      stream, seq: i + 1, id, kind: 'post', rev: 1, change_seq: i + 1, author_id: 'editor', body_text: name,
      attachments: [{ id: mediaId, content_type: 'application/pdf', size: 4 }], is_deleted: false, created_at: createdAt,
    };
  });
  await doc.send(
    new BatchWriteCommand({
      RequestItems: {
        [rt.tableNames.entries]: entries.map((Item) => ({ PutRequest: { Item } })),
        [rt.tableNames.catalog]: entries.flatMap((e) => [
          { PutRequest: { Item: { pk: `entry#${e.id}`, sk: 'entry', stream, seq: e.seq } } },
          {
            PutRequest: {
              Item: { pk: `media#${e.attachments[0]?.id}`, sk: 'media', media_id: e.attachments[0]?.id, owner_id: 'editor', scope_kind: 'channel', scope_id: channelId, key: `channel/${channelId}/${e.attachments[0]?.id}-seeded`, content_type: 'application/pdf', size: 4, created_at: e.created_at },
            },
          },
        ]),
      },
    }),
  );
  await doc.send(
    new UpdateCommand({
      TableName: rt.tableNames.catalog,
      Key: { pk: `channel#${channelId}`, sk: 'head' },
      UpdateExpression: 'SET head_seq = :n, head_change_seq = :n, last_created_at = :t',
      ExpressionAttributeValues: { ':n': POSTS.length, ':t': POSTS[POSTS.length - 1]?.[1] },
    }),
  );
  doc.destroy();
  const lambda = new LambdaClient({ endpoint: rt.endpoints.lambda, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  for (const payload of [
    { type: 'RecordSubscription', user_id: 'subscriber', channel_id: channelId, start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' },
    { type: 'RecordSubscription', user_id: 'subscriber', channel_id: channelId, start: '2026-02-20T00:00:00.000Z' },
    { type: 'SetBackfillPolicy', channel_id: channelId, backfill_days: 7 },
  ]) {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'access-provider', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    expect(out.FunctionError).toBeUndefined();
  }
  lambda.destroy();
  await rt.idle();
});

afterAll(async () => {
  await rt?.stop();
});

describe('the seed’s lapse-and-resubscribe scenario', () => {
  it('hides the gap from pages, both ways', async () => {
    const ascending = await http().call<{ posts: Post[]; has_more: boolean }>('GET', `/v1/channels/${channelId}/posts?after_seq=0&limit=100`, reader);
    const descending = await http().call<{ posts: Post[] }>('GET', `/v1/channels/${channelId}/posts?limit=100`, reader);
    const names = (posts: Post[]) => posts.map((p) => p.body_text);
    const collected = [...names(ascending.body.posts)];
    // A page never crosses a window edge: follow has_more to the end.
    for (let page = ascending.body; page.has_more; ) {
      page = (await http().call<{ posts: Post[]; has_more: boolean }>('GET', `/v1/channels/${channelId}/posts?after_seq=${page.posts.at(-1)?.seq}&limit=100`, reader)).body;
      collected.push(...names(page.posts));
    }
    expect(collected).toEqual(visibleNames);
    expect(names(descending.body.posts).every((n) => !HIDDEN.has(n as string))).toBe(true);
  });

  it('hides the gap from /changes and from single GETs', async () => {
    const changes = await http().call<{ changes: Post[] }>('GET', `/v1/channels/${channelId}/changes?after_change_seq=0&limit=100`, reader);
    expect(changes.body.changes.map((p) => p.body_text)).toEqual(visibleNames);
    for (const [name] of POSTS) {
      const res = await http().call('GET', `/v1/channels/${channelId}/posts/${ids.get(name)}`, reader);
      expect(res.status, name).toBe(HIDDEN.has(name) ? 404 : 200);
    }
  });

  it('catches up over WebSocket with deltas for visible posts only', async () => {
    const ws = new WebSocket(`${rt.endpoints.ws}?token=${reader}`);
    const frames: Record<string, unknown>[] = [];
    const subscribed = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'subscribed') resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ action: 'subscribe', stream: `channel:${channelId}`, after_change_seq: 0 }));
    await subscribed;
    ws.close();
    const deltaIds = frames.filter((f) => f.type === 'delta').map((f) => f.id);
    expect(deltaIds).toEqual(visibleNames.map((name) => ids.get(name)));
    expect(frames.filter((f) => f.type === 'delta').every((f) => !('body_text' in f))).toBe(true);
    expect(frames.at(-1)).toMatchObject({ type: 'subscribed', live: true, head_seq: POSTS.length });
  });

  it('issues media URLs for visible posts only', async () => {
    for (const [name] of POSTS) {
      const res = await http().call<{ url?: string }>('GET', `/v1/channels/${channelId}/posts/${ids.get(name)}/attachments/${mediaOf.get(name)}`, reader);
      expect(res.status, name).toBe(HIDDEN.has(name) ? 404 : 200);
      expect(Boolean(res.body.url), name).toBe(!HIDDEN.has(name));
    }
  });

  it('uploads through a presigned PUT, attaches, and serves a presigned GET that expires', async () => {
    const ticket = await http().call<{ media_id: string; upload_url: string }>('POST', '/v1/media', admin, { scope: { channel_id: channelId }, content_type: 'application/pdf', size: 5 });
    expect(ticket.status).toBe(201);
    expect((await fetch(ticket.body.upload_url, { method: 'PUT', headers: { 'content-type': 'application/pdf' }, body: 'hello' })).status).toBe(200);
    const published = await http().call<{ post: Post }>('POST', `/v1/channels/${channelId}/posts`, admin, { body_text: 'with file', attachment_ids: [ticket.body.media_id] }, { 'idempotency-key': ulid() });
    expect(published.status).toBe(201);
    const link = await http().call<{ url: string }>('GET', `/v1/channels/${channelId}/posts/${published.body.post.id}/attachments/${ticket.body.media_id}`, reader);
    expect(link.status).toBe(200);
    expect(await (await fetch(link.body.url)).text()).toBe('hello');
    const tampered = new URL(link.body.url);
    tampered.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    expect((await fetch(tampered)).status).toBe(403);
    rt.clock.advance(301_000);
    expect((await fetch(link.body.url)).status).toBe(403);
    // A tombstoned post has no attachments: no new URL for anyone.
    expect((await http().call('DELETE', `/v1/channels/${channelId}/posts/${published.body.post.id}`, admin)).status).toBe(200);
    const afterDelete = await http().call('GET', `/v1/channels/${channelId}/posts/${published.body.post.id}/attachments/${ticket.body.media_id}`, admin);
    expect(afterDelete.status).toBe(404);
  });
});
