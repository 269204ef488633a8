import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelAccessFor } from '../../shared/access/channel-access';
import { clearDecisionCache, providerDecision } from '../../shared/access/provider-client';
import { setClock } from '../../shared/clock';

const lambda = mockClient(LambdaClient);
const answer = (payload: unknown) => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(payload)) as never });
const channel = { id: 'C1', admin_ids: ['editor'] };
let time = Date.parse('2026-03-01T00:00:00.000Z');
let restore: () => void;

beforeEach(() => {
  lambda.reset();
  clearDecisionCache();
  restore = setClock(() => time);
});

afterEach(() => restore());

describe('channel access decisions', () => {
  it('gives channel admins and platform admins everything without asking the provider', async () => {
    await expect(channelAccessFor({ userId: 'editor', groups: [] }, channel)).resolves.toMatchObject({ mode: 'FULL' });
    await expect(channelAccessFor({ userId: 'ops', groups: ['platform_admin'] }, channel)).resolves.toMatchObject({ mode: 'FULL' });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('asks the provider with the contract’s request and keeps its windows', async () => {
    lambda.on(InvokeCommand).resolves(answer({ mode: 'ARCHIVE_UNTIL', read_windows: [{ end: '2026-01-31T00:00:00+00:00' }], ttl_seconds: 60 }));
    const decision = await channelAccessFor({ userId: 'ana', groups: [] }, channel);
    expect(decision).toEqual({ mode: 'ARCHIVE_UNTIL', windows: [{ end: '2026-01-31T00:00:00.000Z' }], expiresAt: time + 60_000 });
    const sent = JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array));
    expect(sent).toEqual({ type: 'CanReadChannel', user_id: 'ana', channel_id: 'C1' });
  });

  it('caches a decision per user and channel for its ttl, 30 s by default and never beyond 300 s', async () => {
    lambda.on(InvokeCommand).resolvesOnce(answer({ mode: 'FULL' })).resolvesOnce(answer({ mode: 'FULL', ttl_seconds: 86_400 })).resolves(answer({ mode: 'FULL' }));
    await providerDecision('ana', 'C1');
    time += 29_000;
    await providerDecision('ana', 'C1');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
    time += 2_000;
    const capped = await providerDecision('ana', 'C1');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
    expect(capped.expiresAt - time).toBe(300_000);
    await providerDecision('bob', 'C1');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(3);
  });

  it('lets a DENY replace an earlier grant once the grant expires, and caches the DENY too', async () => {
    lambda.on(InvokeCommand).resolvesOnce(answer({ mode: 'FULL', ttl_seconds: 10 })).resolves(answer({ mode: 'DENY', ttl_seconds: 10 }));
    expect((await providerDecision('ana', 'C1')).mode).toBe('FULL');
    time += 11_000;
    expect((await providerDecision('ana', 'C1')).mode).toBe('DENY');
    expect((await providerDecision('ana', 'C1')).mode).toBe('DENY');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
  });

  it.each([
    ['an invoke error', () => lambda.on(InvokeCommand).rejects(new Error('throttled'))],
    ['a function error', () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{}') as never })],
    ['garbage', () => lambda.on(InvokeCommand).resolves(answer({ mode: 'MAYBE' }))],
    ['ARCHIVE_UNTIL without windows', () => lambda.on(InvokeCommand).resolves(answer({ mode: 'ARCHIVE_UNTIL' }))],
    ['a body that is not JSON', () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('<html>') as never })],
  ])('fails closed on %s, with 503, and caches nothing', async (_name, arrange) => {
    arrange();
    await expect(providerDecision('ana', 'C1')).rejects.toMatchObject({ status: 503, code: 'access_provider_unavailable' });
    await expect(providerDecision('ana', 'C1')).rejects.toMatchObject({ status: 503 });
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
  });

  it('fails closed when the provider never answers', async () => {
    // Never settles: only the client's own timeout can end this call.
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    await expect(providerDecision('slow', 'C1')).rejects.toMatchObject({ status: 503, code: 'access_provider_unavailable' });
  });
});
