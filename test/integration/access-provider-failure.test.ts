/**
 * The layer fails closed: when the access provider is down, slow or answers garbage, no
 * door gives content — HTTP answers 503, WebSocket subscribe an error frame.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../../bench/api';
import { startRuntime, type Runtime } from '../../local/runtime';

let rt: Runtime;
let channelId: string;
let postId: string;

const call = (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) =>
  api(rt.endpoints.http).call<Record<string, unknown>>(method, path, token, body, headers);

async function subscribeFrame(token: string): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${rt.endpoints.ws}?token=${token}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const frame = new Promise<Record<string, unknown>>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
  ws.send(JSON.stringify({ action: 'subscribe', stream: `channel:${channelId}`, after_change_seq: 0 }));
  const answer = await frame;
  ws.close();
  return answer;
}

const failures: Record<string, (event: unknown) => Promise<unknown>> = {
  down: async () => {
    throw new Error('provider crashed');
  },
  slow: async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return { mode: 'FULL' };
  },
  garbage: async () => ({ mode: 'MAYBE', read_windows: 'all of them' }),
};

beforeAll(async () => {
  rt = await startRuntime({ memory: true, httpPort: 0, wsPort: 0, cadence: 'instant' });
  const admin = await rt.token('owner', ['platform_admin']);
  channelId = ((await call('POST', '/v1/channels', admin, { name: 'premium' })).body.channel as { id: string }).id;
  const published = await call('POST', `/v1/channels/${channelId}/posts`, admin, { body_text: 'paid content' }, { 'idempotency-key': ulid() });
  postId = (published.body.post as { id: string }).id;
  await rt.idle();
});

afterAll(async () => {
  await rt?.stop();
});

describe('an access provider that fails', () => {
  it.each(Object.keys(failures))('gives no content on any door when it is %s', async (mode) => {
    const restore = rt.standIn('access-provider', failures[mode] as (event: unknown) => Promise<unknown>);
    try {
      const doors = [
        `/v1/channels/${channelId}/posts`,
        `/v1/channels/${channelId}/posts/${postId}`,
        `/v1/channels/${channelId}/changes?after_change_seq=0`,
        `/v1/channels/${channelId}/posts/${postId}/attachments/${ulid()}`,
      ];
      for (const [i, path] of doors.entries()) {
        // A reader of its own per door: no decision cached from an earlier answer.
        const res = await call('GET', path, await rt.token(`${mode}-reader-${i}`));
        expect(res.status, path).toBe(503);
        expect(res.body).toEqual({ error: { code: 'access_provider_unavailable', message: 'Access cannot be checked right now.' } });
      }
      const frame = await subscribeFrame(await rt.token(`${mode}-ws-reader`));
      expect(frame).toMatchObject({ type: 'error', code: 'access_provider_unavailable', stream: `channel:${channelId}` });
    } finally {
      restore();
    }
  });

  it('serves the same reader once the provider answers again', async () => {
    const reader = await rt.token('recovered-reader');
    const denied = await call('GET', `/v1/channels/${channelId}/posts`, reader);
    // The default provider knows no subscription for this reader: a clear DENY, not an outage.
    expect(denied.status).toBe(403);
  });
});
