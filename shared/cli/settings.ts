import { ConfigError } from '../errors.js';
import { Defaults } from '../config/defaults.js';
import { amqpUrlFromEnv } from '../config/env.js';
import { assertGroup } from '../broker/topology.js';
import { MAX_CHUNK_SIZE } from '../protocol/constants.js';
import { assertDestination, assertDomain, assertDomainPattern, isToken } from '../protocol/validate.js';
import type { Meta } from '../protocol/types.js';
import { CommandTemplate } from './command-template.js';
import { loadConfigFile, type ConfigFile } from './config-file.js';
import { parseLogLevel, type LogLevel } from './logger.js';
import { parseMeta } from './meta.js';
import { isS3Url, parseS3Url } from './s3-url.js';
import { parseSize } from './size.js';
import type { DeadLetterFilter } from '../ops/dead-letters.js';
import type { GroupTarget } from '../ops/status.js';

/**
 * Every command's settings, from (first wins) its flags, the environment, the config file and the
 * defaults; validated here, before anything connects, so that a mistake is one clear line and exit
 * code 2. The flag interfaces are what commander's opts() returns for each command.
 */
export interface CommonFlags {
  config?: string;
  url?: string;
  json?: boolean;
  logLevel?: string;
  s3Endpoint?: string;
}

export interface CommonSettings {
  json: boolean;
  logLevel: LogLevel;
  /** A broker URL given by flag, environment or file; undefined: BROKER_ENDPOINT + secret, or the local default. */
  amqpUrl: string | undefined;
  exchange: string;
  routingPrefix: string;
  s3Endpoint: string | undefined;
  managementUrl: string | undefined;
}

type Env = NodeJS.ProcessEnv;

/** The first value that is set; an empty environment variable counts as unset (a shell's `VAR= cmd`). */
function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

export function parsePositiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(`${what}: ${JSON.stringify(text)} is not a positive whole number`);
  }
  return Number(text);
}

function url(text: string | undefined, what: string): string | undefined {
  if (text === undefined) return undefined;
  try {
    new URL(text);
  } catch {
    throw new ConfigError(`${what}: ${JSON.stringify(text)} is not a URL`);
  }
  return text;
}

/**
 * warn: a person at a terminal wants the command's own output, not the library's JSON lines. A
 * receiver run as a service sets FILEPEER_LOG_LEVEL=info for its logs and its metric lines.
 */
const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

async function common(flags: CommonFlags, env: Env): Promise<{ common: CommonSettings; file: ConfigFile }> {
  const file = await loadConfigFile(first(flags.config, env['FILEPEER_CONFIG']));
  const levelText = first(flags.logLevel, env['FILEPEER_LOG_LEVEL'], file.logLevel);
  const amqpUrl = first(flags.url, env['FILEPEER_AMQP_URL'], env['AMQP_URL'], file.amqpUrl);
  return {
    file,
    common: {
      json: flags.json === true,
      logLevel: levelText === undefined ? DEFAULT_LOG_LEVEL : parseLogLevel(levelText, 'log level (--log-level, FILEPEER_LOG_LEVEL)'),
      // Checked now for a clear error; the URL is redacted in it (it may carry a password).
      amqpUrl: amqpUrl === undefined ? undefined : amqpUrlFromEnv({ FILEPEER_AMQP_URL: amqpUrl }),
      exchange: first(env['FILEPEER_EXCHANGE'], file.exchange) ?? Defaults.exchange,
      routingPrefix: first(env['FILEPEER_ROUTING_PREFIX'], file.routingPrefix) ?? Defaults.routingPrefix,
      s3Endpoint: url(first(flags.s3Endpoint, env['FILEPEER_S3_ENDPOINT'], file.s3Endpoint), 'S3 endpoint (--s3-endpoint, FILEPEER_S3_ENDPOINT)'),
      managementUrl: url(first(env['FILEPEER_MANAGEMENT_URL'], file.managementUrl), 'management URL (FILEPEER_MANAGEMENT_URL)'),
    },
  };
}

// ---- send -----------------------------------------------------------------------------------------

export interface SendFlags extends CommonFlags {
  domain?: string;
  dest?: string;
  meta?: string[];
  chunkSize?: string;
  progress?: boolean;
}

export interface SendSettings extends CommonSettings {
  /** A path, `s3://bucket/key`, or `-` for stdin. */
  source: string;
  domain: string;
  destination: string | undefined;
  meta: Meta;
  chunkSize: number;
  progress: boolean;
}

export async function sendSettings(source: string, flags: SendFlags, env: Env = process.env): Promise<SendSettings> {
  const { common: c, file } = await common(flags, env);
  const domain = first(flags.domain, file.domain);
  if (domain === undefined) throw new ConfigError('send needs --domain (the domain to broadcast on)');
  assertDomain(domain);
  if (source === '-' && flags.dest === undefined) throw new ConfigError('send - (stdin) needs --dest: the name the file gets at the receivers');
  if (isS3Url(source)) parseS3Url(source, 'object');
  const chunkText = first(flags.chunkSize, env['FILEPEER_CHUNK_SIZE'], file.chunkSize === undefined ? undefined : String(file.chunkSize));
  const chunkSize = chunkText === undefined ? Defaults.chunkSize : parseSize(chunkText, 'chunk size (--chunk-size, FILEPEER_CHUNK_SIZE)');
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new ConfigError(`chunk size must be 1 byte to 4MiB, got ${chunkText}`);
  return {
    ...c,
    source,
    domain,
    destination: flags.dest === undefined ? undefined : assertDestination(flags.dest),
    meta: parseMeta(flags.meta ?? []),
    chunkSize,
    progress: flags.progress !== false,
  };
}

// ---- receive --------------------------------------------------------------------------------------

export interface ReceiveFlags extends CommonFlags {
  domain?: string[];
  group?: string;
  to?: string;
  exec?: string;
  once?: string;
  prefetch?: string;
}

export interface ReceiveSettings extends CommonSettings {
  group: string;
  domains: string[];
  /** A directory or `s3://bucket/prefix`. */
  to: string;
  exec: CommandTemplate | undefined;
  /** Stop after this many files. */
  once: number | undefined;
  prefetch: number | undefined;
}

/** `--domain a,b --domain c` or `FILEPEER_DOMAINS=a,b`: one list. */
function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** The worker's FILEPEER_DEST_DIR / FILEPEER_DEST_BUCKET (+ _PREFIX) as a `--to` value. */
function destFromEnv(env: Env): string | undefined {
  if (env['FILEPEER_DEST_BUCKET']) return `s3://${env['FILEPEER_DEST_BUCKET']}/${env['FILEPEER_DEST_PREFIX'] ?? ''}`;
  return first(env['FILEPEER_DEST_DIR']);
}

function checkTo(to: string): string {
  if (isS3Url(to)) parseS3Url(to, 'prefix');
  return to;
}

export async function receiveSettings(flags: ReceiveFlags, env: Env = process.env): Promise<ReceiveSettings> {
  const { common: c, file } = await common(flags, env);
  const group = first(flags.group, env['FILEPEER_GROUP'], file.group);
  if (group === undefined) throw new ConfigError('receive needs --group (the receiver group)');
  assertGroup(group);
  const fromGroup = file.groups?.[group];
  const domains = flags.domain?.length ? splitList(flags.domain) : env['FILEPEER_DOMAINS'] ? splitList([env['FILEPEER_DOMAINS']]) : (file.domains ?? fromGroup?.domains ?? []);
  if (domains.length === 0) throw new ConfigError('receive needs --domain (a domain or a pattern such as reports.# )');
  domains.forEach((d) => assertDomainPattern(d));
  const to = first(flags.to, destFromEnv(env), fromGroup?.to, file.to);
  if (to === undefined) throw new ConfigError('receive needs --to (a directory, or s3://bucket/prefix)');
  const prefetch = first(flags.prefetch, env['FILEPEER_PREFETCH']);
  return {
    ...c,
    group,
    domains,
    to: checkTo(to),
    exec: flags.exec === undefined ? undefined : CommandTemplate.parse(flags.exec),
    once: flags.once === undefined ? undefined : parsePositiveInt(flags.once, '--once'),
    prefetch: prefetch === undefined ? undefined : parsePositiveInt(prefetch, 'prefetch (--prefetch, FILEPEER_PREFETCH)'),
  };
}

// ---- status ---------------------------------------------------------------------------------------

export interface StatusFlags extends CommonFlags {
  group?: string[];
  domain?: string[];
  to?: string;
  managementUrl?: string;
  sample?: string;
}

export interface StatusSettings extends CommonSettings {
  groups: GroupTarget[];
  /** Dead letters read per group to count their reasons. */
  sample: number;
}

export async function statusSettings(flags: StatusFlags, env: Env = process.env): Promise<StatusSettings> {
  const { common: c, file } = await common(flags, env);
  const managementUrl = url(flags.managementUrl, '--management-url') ?? c.managementUrl;
  const flagDomains = flags.domain?.length ? splitList(flags.domain) : undefined;
  flagDomains?.forEach((d) => assertDomainPattern(d));
  const to = flags.to === undefined ? undefined : checkTo(flags.to);
  // Named on the command line: those groups only; else the config file's, else FILEPEER_GROUP's.
  const names = flags.group?.length ? splitList(flags.group) : file.groups ? Object.keys(file.groups) : [first(env['FILEPEER_GROUP'], file.group)].filter((g): g is string => g !== undefined);
  const groups = names.map((group): GroupTarget => {
    assertGroup(group);
    const configured = file.groups?.[group];
    const domains = flagDomains ?? configured?.domains ?? (group === file.group ? file.domains : undefined) ?? [];
    domains.forEach((d) => assertDomainPattern(d));
    const groupTo = to ?? configured?.to ?? (group === file.group ? file.to : undefined);
    return { group, domains, to: groupTo === undefined ? undefined : checkTo(groupTo) };
  });
  if (groups.length === 0 && managementUrl === undefined) {
    throw new ConfigError('status needs --group (AMQP cannot list queues), a "groups" entry in the config file, or --management-url');
  }
  return { ...c, managementUrl, groups, sample: flags.sample === undefined ? 100 : parsePositiveInt(flags.sample, '--sample') };
}

// ---- dlq ------------------------------------------------------------------------------------------

export interface DlqFlags extends CommonFlags {
  group?: string;
  token?: string;
  reason?: string;
  limit?: string;
  yes?: boolean;
}

export interface DlqSettings extends CommonSettings {
  group: string;
  filter: DeadLetterFilter;
  limit: number | undefined;
  yes: boolean;
}

export async function dlqSettings(flags: DlqFlags, env: Env = process.env): Promise<DlqSettings> {
  const { common: c, file } = await common(flags, env);
  const group = first(flags.group, env['FILEPEER_GROUP'], file.group);
  if (group === undefined) throw new ConfigError('dlq needs --group (whose dead letters)');
  assertGroup(group);
  if (flags.token !== undefined && !isToken(flags.token)) throw new ConfigError(`--token ${JSON.stringify(flags.token)} is not a transfer token (32 hex digits)`);
  return {
    ...c,
    group,
    filter: { token: flags.token, reason: flags.reason },
    limit: flags.limit === undefined ? undefined : parsePositiveInt(flags.limit, '--limit'),
    yes: flags.yes === true,
  };
}
