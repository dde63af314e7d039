import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, messageOf } from '../errors.js';

const group = z
  .object({
    /** Domains or patterns the group subscribes to: its queues are `filepeer.<group>.<pattern>`. */
    domains: z.array(z.string()).min(1).optional(),
    /** Where the group's receiver puts files (a directory or s3://bucket/prefix): its transfer state is there. */
    to: z.string().min(1).optional(),
  })
  .strict();

/**
 * The optional config file (`--config` or FILEPEER_CONFIG): JSON, every key optional, unknown keys
 * refused so that a typo is an error rather than a setting silently ignored. Flags and the
 * environment override it.
 */
const schema = z
  .object({
    amqpUrl: z.string().min(1).optional(),
    exchange: z.string().min(1).optional(),
    routingPrefix: z.string().min(1).optional(),
    s3Endpoint: z.string().url().optional(),
    managementUrl: z.string().url().optional(),
    logLevel: z.string().optional(),
    chunkSize: z.union([z.number().int().positive(), z.string()]).optional(),
    /** send: the domain. */
    domain: z.string().optional(),
    /** receive, dlq: the group, its domains and destination. */
    group: z.string().optional(),
    domains: z.array(z.string()).min(1).optional(),
    to: z.string().min(1).optional(),
    /** status: every group to report on, by name. */
    groups: z.record(z.string(), group).optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof schema>;
export type GroupConfig = z.infer<typeof group>;

export async function loadConfigFile(path: string | undefined): Promise<ConfigFile> {
  if (!path) return {};
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(`config file ${path}: ${code === 'ENOENT' ? 'not found' : messageOf(cause)}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not JSON: ${messageOf(cause)}`, { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new ConfigError(`config file ${path}: ${issues}`);
  }
  return parsed.data;
}
