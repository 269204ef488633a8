import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedBundles } from '../../local/bundle';
import { FUNCTIONS } from '../../shared/spec/functions';

/** The smallest handler: each build stays quick. */
const SMALL = FUNCTIONS.filter((fn) => fn.id === 'WsDefault');

let cacheDir: string;

beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'bundle-cache-'));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('the local bundle cache', () => {
  it('builds once and hands out the same files while the sources are unchanged', async () => {
    const first = await cachedBundles(SMALL, {}, cacheDir);
    const built = statSync(first.get('WsDefault') as string);
    const second = await cachedBundles(SMALL, {}, cacheDir);
    expect(second).toEqual(first);
    expect(statSync(second.get('WsDefault') as string).ino).toBe(built.ino);
    expect(statSync(second.get('WsDefault') as string).mtimeMs).toBe(built.mtimeMs);
  });

  it('keys a build by what it is made of: other options make another build', async () => {
    const plain = await cachedBundles(SMALL, {}, cacheDir);
    const hooked = await cachedBundles(SMALL, { clockHook: true }, cacheDir);
    expect(hooked.get('WsDefault')).not.toBe(plain.get('WsDefault'));
    const module = (await import(pathToFileURL(hooked.get('WsDefault') as string).href)) as Record<string, unknown>;
    expect(typeof module.handler).toBe('function');
    expect(typeof module.setClock).toBe('function');
  });

  it('ends builds started together with one complete build and nothing half-made beside it', async () => {
    const results = await Promise.all([cachedBundles(SMALL, {}, cacheDir), cachedBundles(SMALL, {}, cacheDir), cachedBundles(SMALL, {}, cacheDir)]);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(readdirSync(cacheDir)).toHaveLength(1);
    const dir = readdirSync(cacheDir)[0] as string;
    expect(readdirSync(join(cacheDir, dir)).sort()).toEqual(['WsDefault.mjs', 'WsDefault.mjs.map']);
  });

  it('bundles handlers with Lambda’s credential sources in place of the SDK’s default chain, as CDK does', async () => {
    const bundles = await cachedBundles(FUNCTIONS.filter((fn) => fn.id === 'WsPing'), {}, cacheDir);
    const sources: string[] = JSON.parse(readFileSync(`${bundles.get('WsPing')}.map`, 'utf8')).sources;
    expect(sources.some((source) => source.endsWith('shared/clients/lambda-credentials.ts'))).toBe(true);
    expect(sources.filter((source) => /credential-provider-node|nested-clients/.test(source))).toEqual([]);
  });

  it('removes builds unused for a day when it builds, and keeps recent ones', async () => {
    const stale = join(cacheDir, 'stale-build');
    const recent = join(cacheDir, 'recent-build');
    mkdirSync(stale);
    mkdirSync(recent);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    await cachedBundles(SMALL, {}, cacheDir);
    const left = readdirSync(cacheDir);
    expect(left).not.toContain('stale-build');
    expect(left).toContain('recent-build');
    expect(left).toHaveLength(2);
  });
});
