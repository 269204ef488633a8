/**
 * How every Lambda handler is bundled and started: the CDK `TeamFunction` and the cold-start
 * benchmark both read this, so the bench measures what is deployed. Plain data.
 */
export const BUNDLING = {
  target: 'node22',
  format: 'esm',
  minify: true,
  sourceMap: true,
  /**
   * Maps without the sources: Node parses the whole map at import when source maps are
   * on, and the embedded sources made that cost ~100 ms of cold start (scenario 5).
   */
  sourcesContent: false,
  /** Stack traces in the logs point at our TypeScript, not the minified bundle. */
  nodeOptions: '--enable-source-maps',
  /**
   * Nothing is left to the runtime: the AWS SDK is bundled too. The deployed handler then
   * runs the SDK version the tests ran (the runtime's copy changes under us), and one
   * minified file imports in about half the time of the runtime's many-file SDK
   * (`npm run bench`, scenario 5).
   */
  externalModules: [],
  /**
   * The SDK's default credential chain gives way to the two sources Lambda uses
   * (shared/clients/lambda-credentials.ts). Paths are relative to the project root, the
   * working directory esbuild gets from CDK (locally, or in Docker) and the local runtime.
   */
  alias: { '@aws-sdk/credential-provider-node': './shared/clients/lambda-credentials.ts' },
  /** ES builds first: esbuild tree-shakes them; the SDK's CommonJS builds it cannot. */
  mainFields: ['module', 'main'],
  /** ESM bundles still meet CommonJS dependencies that call require(). */
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
} as const;
