/**
 * The AWS SDK's S3 module, loaded on first use. `@aws-sdk/client-s3` costs 10–15 MiB of RSS and
 * about 5 MiB of heap once imported; a peer that only broadcasts, or receives into a directory,
 * never pays for it. (A bigger heap also makes V8 run far more full collections while a transfer
 * moves external Buffers through it: see docs/BENCHMARKS.md.) The S3 sink and writer take their
 * commands from here; bundlers keep the dynamic import working (esbuild turns it into a require).
 */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

let loading: Promise<S3Sdk> | undefined;

export function s3Sdk(): Promise<S3Sdk> {
  loading ??= import('@aws-sdk/client-s3');
  return loading;
}
