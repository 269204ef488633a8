/**
 * How every Lambda handler is bundled: the CDK `TeamFunction` and the cold-start
 * benchmark both read this, so the bench measures what is deployed. Plain data.
 */
export const BUNDLING = {
  target: 'node22',
  format: 'esm',
  minify: true,
  sourceMap: true,
  /** The Node.js 22 runtime ships AWS SDK v3; bundling it again only grows cold starts. */
  externalModules: ['@aws-sdk/*'],
  /** ESM bundles still meet CommonJS dependencies that call require(). */
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
} as const;
