/** Tiny HTTP client for the bench and the integration tests: the public API, as an app calls it. */
import { ulid } from 'ulid';

export interface Api {
  readonly base: string;
  call<T>(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
}

export function api(base: string): Api {
  return {
    base,
    async call(method, path, token, body, headers = {}) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never, headers: res.headers };
    },
  };
}

export interface ChannelRef {
  readonly id: string;
}

export async function createChannel(client: Api, adminToken: string, name: string): Promise<ChannelRef> {
  const { status, body } = await client.call<{ channel: ChannelRef }>('POST', '/v1/channels', adminToken, { name });
  if (status !== 201) throw new Error(`create channel: ${status} ${JSON.stringify(body)}`);
  return body.channel;
}

export interface PublishedPost {
  readonly id: string;
  readonly seq: number;
}

/** Publishes like a well-behaved client: a 429 is retried with the same key after Retry-After. */
export async function publish(client: Api, adminToken: string, channelId: string, text: string, key = ulid()): Promise<PublishedPost> {
  for (let attempt = 0; ; attempt++) {
    const { status, body } = await client.call<{ post: PublishedPost }>(
      'POST',
      `/v1/channels/${channelId}/posts`,
      adminToken,
      { body_text: text },
      { 'idempotency-key': key },
    );
    if (status === 201 || status === 200) return body.post;
    if (status !== 429 || attempt >= 5) throw new Error(`publish: ${status} ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
  }
}
