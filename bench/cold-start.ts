/**
 * Scenario 5: for every handler, the minified bundle size and the time a fresh `node`
 * process takes to import it (median of N), bundled exactly as deployed (BUNDLING).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Metafile } from 'esbuild';
import { bundleFunctions } from '../local/bundle';
import { BUNDLING } from '../shared/spec/bundling';
import { FUNCTIONS } from '../shared/spec/functions';
import { median } from './stats';

export interface ColdStartResult {
  readonly function: string;
  readonly bundleBytes: number;
  /** Of the bundle: the AWS SDK's own packages (@aws-sdk, @smithy, @aws-crypto, @aws). */
  readonly sdkBytes: number;
  /** Of the bundle: this repository's code (lambdas/, shared/). */
  readonly ownBytes: number;
  readonly importMsMedian: number;
}

const SDK_PACKAGE = /node_modules\/@(?:aws-sdk|smithy|aws-crypto|aws)\//;

/** Bytes of each output file, by where they came from (esbuild's metafile). */
export function bundleComposition(metafile: Metafile): Map<string, { sdkBytes: number; ownBytes: number }> {
  const composition = new Map<string, { sdkBytes: number; ownBytes: number }>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!file.endsWith('.mjs')) continue;
    let sdkBytes = 0;
    let ownBytes = 0;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (SDK_PACKAGE.test(input)) sdkBytes += bytesInOutput;
      else if (!input.includes('node_modules/')) ownBytes += bytesInOutput;
    }
    composition.set(basename(file, '.mjs'), { sdkBytes, ownBytes });
  }
  return composition;
}

/** The environment every handler validates at import (values are never used to call AWS). */
export const HANDLER_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // The SDK warns about Node 20 (this machine); Lambda runs Node 22, where it stays silent.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  TABLE_CATALOG: 'b-catalog',
  TABLE_ENTRIES: 'b-entries',
  TABLE_CONNECTIONS: 'b-connections',
  TABLE_IDEMPOTENCY: 'b-idempotency',
  TABLE_ENTITLEMENTS: 'b-entitlements',
  FANOUT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/b',
  CONNECTIONS_ENDPOINT: 'http://127.0.0.1:1',
  MEDIA_BUCKET: 'b-media',
  EVENT_BUS_NAME: 'b-bus',
  PUSH_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:b',
  ACCESS_PROVIDER_FUNCTION: 'access-provider',
  JWT_KIND: 'oidc',
  JWT_ISSUER: 'http://127.0.0.1:1/_local',
  JWT_AUDIENCE: 'bench',
};

export async function measureColdStarts(runs: number): Promise<ColdStartResult[]> {
  // Self-contained bundles (BUNDLING leaves nothing external): import them from anywhere.
  const outDir = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const results: ColdStartResult[] = [];
  try {
    const bundles = await bundleFunctions(FUNCTIONS, outDir, { metafile: true });
    const composition = bundleComposition(JSON.parse(readFileSync(join(outDir, 'metafile.json'), 'utf8')) as Metafile);
    for (const fn of FUNCTIONS) {
      const outfile = bundles.get(fn.id) as string;
      const probe = join(outDir, `${fn.id}.probe.mjs`);
      writeFileSync(
        probe,
        `const t = performance.now(); await import(${JSON.stringify(outfile)}); process.stdout.write(String(performance.now() - t));`,
      );
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const out = execFileSync(process.execPath, [probe], { env: { ...HANDLER_ENV, NODE_OPTIONS: BUNDLING.nodeOptions, PATH: process.env.PATH ?? '' } });
        times.push(Number(out.toString()));
      }
      const { sdkBytes, ownBytes } = composition.get(fn.id) ?? { sdkBytes: Number.NaN, ownBytes: Number.NaN };
      results.push({ function: fn.id, bundleBytes: statSync(outfile).size, sdkBytes, ownBytes, importMsMedian: median(times) });
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return results;
}
