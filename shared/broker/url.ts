import * as amqp from 'amqplib';

/** What amqplib's connect is given: the URL without credentials, and the credentials decoded right. */
export interface ConnectArgs {
  url: string;
  credentials: ReturnType<typeof amqp.credentials.plain> | undefined;
}

/**
 * amqplib decodes the URL's user and password with `unescape()`, as Latin-1: a UTF-8 password
 * (percent-encoded as URLs do, and as resolveBrokerUrl builds it from a secret) reaches the broker
 * mangled and is refused. We decode them ourselves and pass PLAIN credentials beside a URL that
 * carries none — which also keeps the password out of anything amqplib might quote.
 * The heartbeat, which amqplib reads from the URL, is added when the URL has none.
 */
export function connectArgs(url: string, heartbeatSeconds?: number): ConnectArgs {
  const parsed = new URL(url);
  if (heartbeatSeconds !== undefined && !parsed.searchParams.has('heartbeat')) {
    parsed.searchParams.set('heartbeat', String(heartbeatSeconds));
  }
  let credentials: ConnectArgs['credentials'];
  if (parsed.username || parsed.password) {
    credentials = amqp.credentials.plain(decodeURIComponent(parsed.username), decodeURIComponent(parsed.password));
    parsed.username = '';
    parsed.password = '';
  }
  return { url: parsed.toString(), credentials };
}

/** The password of `url` in every form a message could quote it: decoded and as written. */
export function passwordForms(url: string): string[] {
  try {
    const raw = new URL(url).password;
    if (!raw) return [];
    const decoded = decodeURIComponent(raw);
    return [...new Set([raw, decoded])].filter((p) => p.length > 0);
  } catch {
    return [];
  }
}
