import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { assertGroup } from '../broker/topology.js';
import { assertDomainPattern } from '../protocol/validate.js';
import { MAX_CHUNK_SIZE } from '../protocol/constants.js';
import { DEFAULT_KEY_PREFIX } from '../aws/s3-object.js';
import { parseHandlerTargets } from '../handlers/router.js';
import type { HandlerTarget } from '../handlers/types.js';

/**
 * Configuration of the functions (broadcast, receive, worker), read from the environment once,
 * validated, with every default here. A bad value fails the cold start with a message naming it.
 */
export interface RuntimeConfig {
  exchange: string | undefined;
  routingPrefix: string | undefined;
  /** Broadcast: bytes per chunk. */
  chunkSize: number | undefined;
  /** Broadcast: upload keys under this prefix carry their domain. */
  keyPrefix: string;
  /** Receive/worker: the receiver group and the domains (patterns) it subscribes to. */
  group: string | undefined;
  domains: string[];
  /** Receive/worker: destination, an S3 bucket (and prefix) or a directory. */
  destBucket: string | undefined;
  destPrefix: string;
  destDir: string | undefined;
  /** A custom S3 endpoint (the embedded s3rver locally); unset for AWS. */
  s3Endpoint: string | undefined;
  handlers: HandlerTarget[];
  prefetch: number | undefined;
  /** Receive/worker: a transfer silent this long is abandoned, its partial data removed (default 10 min). */
  idleTimeoutMs: number | undefined;
  /** Receive: stop taking deliveries this long before the Lambda's time runs out. */
  receiveMarginMs: number;
  /** Receive: stop early after this long with nothing to do. */
  receiveIdleExitMs: number;
}

const int = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .optional();

const schema = z.object({
  FILEPEER_EXCHANGE: z.string().min(1).optional(),
  FILEPEER_ROUTING_PREFIX: z.string().min(1).optional(),
  FILEPEER_CHUNK_SIZE: int('FILEPEER_CHUNK_SIZE').refine((v) => v === undefined || (v >= 1 && v <= MAX_CHUNK_SIZE), `FILEPEER_CHUNK_SIZE must be 1..${MAX_CHUNK_SIZE}`),
  FILEPEER_KEY_PREFIX: z.string().optional(),
  FILEPEER_GROUP: z.string().optional(),
  FILEPEER_DOMAINS: z.string().optional(),
  FILEPEER_DEST_BUCKET: z.string().min(1).optional(),
  FILEPEER_DEST_PREFIX: z.string().optional(),
  FILEPEER_DEST_DIR: z.string().min(1).optional(),
  FILEPEER_S3_ENDPOINT: z.string().url().optional(),
  FILEPEER_HANDLERS: z.string().optional(),
  FILEPEER_PREFETCH: int('FILEPEER_PREFETCH'),
  FILEPEER_IDLE_TIMEOUT_MS: int('FILEPEER_IDLE_TIMEOUT_MS').refine((v) => v === undefined || v > 0, 'FILEPEER_IDLE_TIMEOUT_MS must be positive'),
  FILEPEER_RECEIVE_MARGIN_MS: int('FILEPEER_RECEIVE_MARGIN_MS'),
  FILEPEER_RECEIVE_IDLE_EXIT_MS: int('FILEPEER_RECEIVE_IDLE_EXIT_MS'),
});

export function runtimeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`configuration: ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  const domains = (e.FILEPEER_DOMAINS ?? '#').split(',').map((d) => d.trim()).filter(Boolean);
  domains.forEach((d) => assertDomainPattern(d));
  if (e.FILEPEER_GROUP !== undefined) assertGroup(e.FILEPEER_GROUP);
  return {
    exchange: e.FILEPEER_EXCHANGE,
    routingPrefix: e.FILEPEER_ROUTING_PREFIX,
    chunkSize: e.FILEPEER_CHUNK_SIZE,
    keyPrefix: e.FILEPEER_KEY_PREFIX ?? DEFAULT_KEY_PREFIX,
    group: e.FILEPEER_GROUP,
    domains,
    destBucket: e.FILEPEER_DEST_BUCKET,
    destPrefix: e.FILEPEER_DEST_PREFIX ?? '',
    destDir: e.FILEPEER_DEST_DIR,
    s3Endpoint: e.FILEPEER_S3_ENDPOINT,
    handlers: parseHandlerTargets(e.FILEPEER_HANDLERS),
    prefetch: e.FILEPEER_PREFETCH,
    idleTimeoutMs: e.FILEPEER_IDLE_TIMEOUT_MS,
    receiveMarginMs: e.FILEPEER_RECEIVE_MARGIN_MS ?? 10_000,
    receiveIdleExitMs: e.FILEPEER_RECEIVE_IDLE_EXIT_MS ?? 20_000,
  };
}

/** The receiver's group and destination, which receive and worker cannot do without. */
export function requireReceiver(config: RuntimeConfig): RuntimeConfig & { group: string } {
  if (!config.group) throw new ConfigError('FILEPEER_GROUP (the receiver group) is required');
  if (!config.destBucket && !config.destDir) throw new ConfigError('set FILEPEER_DEST_BUCKET (S3) or FILEPEER_DEST_DIR (a directory)');
  return { ...config, group: config.group };
}
