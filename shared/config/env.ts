import { ConfigError } from '../errors.js';
import { Defaults } from './defaults.js';

/** The broker URL from FILEPEER_AMQP_URL, then AMQP_URL, then the local default. */
export function amqpUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  // An empty variable counts as unset (a shell's `VAR= cmd`).
  const url = env['FILEPEER_AMQP_URL'] || env['AMQP_URL'] || Defaults.amqpUrl;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`broker URL is not a URL: ${redactUrl(url)}`, { cause });
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw new ConfigError(`broker URL must start with amqp:// or amqps://, got ${parsed.protocol}//`);
  }
  return url;
}

/** The URL with its password replaced, for log lines and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = '***';
      return parsed.toString();
    }
  } catch {
    // Not a URL: most likely a password pasted in unencoded, see below.
  }
  // A password with `@`, `/`, `:`, `?` or `#` pasted in unencoded either makes the URL unparsable
  // or is parsed as host, port and path (`amqps://u:12/34@h` is host `u`, port 12). Everything up
  // to the *last* `@` is the credentials then: cut it all, over-redacting rather than leaking a tail.
  return url.replace(/\/\/([^:/@]*):.*@/, '//$1:***@');
}

/** A positive integer option, or a ConfigError that names it. */
export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`${name} must be a positive integer, got ${String(value)}`);
  return v;
}
