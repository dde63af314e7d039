import { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RuntimeConfig } from '../config/runtime.js';
import { HandlerRouter } from '../handlers/router.js';
import { DirectorySink } from '../sinks/directory.js';
import { createS3Client } from '../sinks/s3-client.js';
import { S3Sink } from '../sinks/s3.js';
import type { Sink } from '../sinks/types.js';
import type { ReceiverPlan } from './run.js';

/** Build a receiver plan from validated configuration (receive Lambda, worker, CLI). */
export function receiverPlanFromConfig(
  config: RuntimeConfig & { group: string },
  clients: { s3?: S3Client; lambda?: LambdaClient } = {},
): ReceiverPlan {
  let sink: Sink;
  if (config.destBucket) {
    const s3 = clients.s3 ?? createS3Client({ endpoint: config.s3Endpoint });
    sink = new S3Sink({ client: s3, bucket: config.destBucket, prefix: config.destPrefix });
  } else {
    sink = new DirectorySink({ root: config.destDir! });
  }
  const needsLambda = config.handlers.some((t) => 'lambda' in t);
  const lambda = clients.lambda ?? (needsLambda ? new LambdaClient({}) : undefined);
  return {
    group: config.group,
    domains: config.domains,
    sink,
    handlers: new HandlerRouter(config.handlers, lambda),
    prefetch: config.prefetch,
    idleTimeoutMs: config.idleTimeoutMs,
  };
}
