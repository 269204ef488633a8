/**
 * Bundles handlers exactly as CDK deploys them (shared/spec/bundling.ts): the local
 * runtime runs these bundles and the cold-start bench measures them.
 */
import { build, version as esbuildVersion } from 'esbuild';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BUNDLING } from '../shared/spec/bundling';
import type { FunctionSpec } from '../shared/spec/functions';

const ROOT = resolve(import.meta.dirname, '..');
const DEFAULT_CACHE = join(ROOT, 'node_modules', '.cache', 'realtime-layer-functions');

export interface BundleOptions {
  /**
   * Also export the bundle's own `setClock` (shared/clock.ts) beside `handler`, so the
   * local runtime can give each environment its clock. Nothing else differs.
   */
  readonly clockHook?: boolean;
  /** Also write esbuild's metafile (what each bundle is made of) as `metafile.json` beside the bundles. */
  readonly metafile?: boolean;
}

/** Bundles every function into `outDir` as `<id>.mjs` (+ `.map`); returns each function's file. */
export async function bundleFunctions(functions: readonly FunctionSpec[], outDir: string, options: BundleOptions = {}): Promise<Map<string, string>> {
  const entryPoints = functions.map((fn) => {
    const handler = resolve(ROOT, 'lambdas', `${fn.entry}.ts`);
    if (!options.clockHook) return { in: handler, out: fn.id };
    const wrapper = join(outDir, 'entries', `${fn.id}.ts`);
    mkdirSync(join(outDir, 'entries'), { recursive: true });
    writeFileSync(wrapper, `export { handler } from ${JSON.stringify(handler)};\nexport { setClock } from ${JSON.stringify(resolve(ROOT, 'shared', 'clock.ts'))};\n`);
    return { in: wrapper, out: fn.id };
  });
  const result = await build({
    entryPoints,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: [...BUNDLING.mainFields],
    external: [...BUNDLING.externalModules],
    alias: { ...BUNDLING.alias },
    // Alias paths resolve from the project root, wherever this process was started.
    absWorkingDir: ROOT,
    banner: { js: BUNDLING.banner },
    logLevel: 'silent',
    metafile: options.metafile ?? false,
  });
  if (result.metafile) writeFileSync(join(outDir, 'metafile.json'), JSON.stringify(result.metafile));
  return new Map(functions.map((fn) => [fn.id, join(outDir, `${fn.id}.mjs`)]));
}

/** Every file a bundle is made of, by content: handlers, shared code, the lock file, tsconfig, the bundling itself. */
function sourcesKey(functions: readonly FunctionSpec[], options: BundleOptions): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ esbuildVersion, options, functions: functions.map((fn) => [fn.id, fn.entry]) })).update(readFileSync(resolve(ROOT, 'package-lock.json')))
    .update(readFileSync(resolve(ROOT, 'tsconfig.json')));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(relative(ROOT, path)).update(readFileSync(path));
    }
  };
  for (const dir of ['lambdas', 'shared']) walk(resolve(ROOT, dir));
  hash.update(readFileSync(import.meta.filename));
  return hash.digest('hex').slice(0, 32);
}

/** Bundles of older sources unused for a day go (a runtime started earlier may still use a recent one). */
function pruneCache(cacheDir: string, keep: string): void {
  const cutoff = Date.now() - 86_400_000;
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    try {
      if (path !== keep && statSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}

/**
 * `bundleFunctions` through a cache under node_modules/.cache keyed by the sources'
 * content: unchanged code starts without bundling again (every test file starts a runtime).
 */
export async function cachedBundles(functions: readonly FunctionSpec[], options: BundleOptions = {}, cacheDir = DEFAULT_CACHE): Promise<Map<string, string>> {
  const dir = join(cacheDir, sourcesKey(functions, options));
  const files = () => new Map(functions.map((fn) => [fn.id, join(dir, `${fn.id}.mjs`)]));
  try {
    utimesSync(dir, new Date(), new Date());
    return files();
  } catch {
    // Not built yet (or pruned just now): build it.
  }
  // Built aside and renamed into place: processes starting together never see half a cache.
  const building = `${dir}.${randomUUID()}`;
  mkdirSync(building, { recursive: true });
  try {
    await bundleFunctions(functions, building, options);
    renameSync(building, dir);
    pruneCache(cacheDir, dir);
  } catch (error) {
    if (!existsSync(dir)) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return files();
}
