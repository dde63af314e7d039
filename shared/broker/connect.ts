import { EventEmitter } from 'node:events';
import * as amqp from 'amqplib';
import type { Channel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { BrokerError, messageOf } from '../errors.js';
import { redactUrl } from '../config/env.js';
import { Defaults } from '../config/defaults.js';
import type { Logger } from '../log.js';
import type { TlsOptions } from './tls.js';
import { connectArgs, passwordForms } from './url.js';

/** How a lost connection is re-established: exponential backoff with jitter, forever unless bounded. */
export interface ReconnectOptions {
  /** First retry after this long (default 200 ms), then doubling. */
  initialDelayMs?: number;
  /** Never wait longer than this between attempts (default 5 s). */
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). 0 turns reconnection off. */
  maxRetries?: number;
}

export interface ConnectOptions {
  heartbeatSeconds?: number;
  logger: Logger;
  /** For amqps://: a CA bundle, client certificate, server name (see tls.ts). */
  tls?: TlsOptions;
  reconnect?: ReconnectOptions;
}

type ConnectionEvent = 'lost' | 'restored' | 'blocked' | 'unblocked' | 'ended';

/**
 * The peer's connection to the broker, re-established by amqplib's recovery (backoff, jitter) when
 * the broker closes it or goes away. Channels do not survive a reconnection: the producer and the
 * consumer listen for 'restored' and open theirs again (see publisher.ts, subscription.ts).
 *
 * The first connection is not retried: a wrong URL or a broker that is not running fails the
 * start with a BrokerError at once, which is what a command line or a deploy wants to hear.
 */
export class BrokerConnection {
  private readonly events = new EventEmitter();
  private isConnected = true;
  private isBlocked = false;
  private closedByUs = false;
  private failure: Error | undefined;
  /** Bumped at every reconnection: a channel opened in an earlier generation is dead. */
  private gen = 0;

  private constructor(private readonly model: RecoveringChannelModel, private readonly log: Logger) {
    // Every concurrent broadcast's publisher listens for blocked/unblocked/ended; they are removed
    // when it closes. Dozens at once is normal use, not a leak.
    this.events.setMaxListeners(0);
    model.on('disconnect', (err: Error) => {
      this.isConnected = false;
      this.isBlocked = false;
      if (this.closedByUs) return;
      log.warn({ err: err.message }, 'broker connection lost, reconnecting');
      this.events.emit('lost');
    });
    model.on('reconnect-scheduled', ({ attempt, delay, error }: { attempt: number; delay: number; error: Error }) =>
      log.info({ attempt, delayMs: delay, err: error.message }, 'reconnecting to the broker'),
    );
    model.on('connect', () => {
      this.gen++;
      this.isConnected = true;
      log.info({ generation: this.gen }, 'broker connection restored');
      this.events.emit('restored');
    });
    model.on('reconnect-failed', (err: Error) => {
      this.failure = err;
      log.error({ err: err.message }, 'gave up reconnecting to the broker');
      this.events.emit('ended');
    });
    // Without an 'error' listener an unexpected close would crash the process.
    model.on('error', (err: Error) => log.error({ err: err.message }, 'broker connection error'));
    // A memory or disk alarm: the broker stops reading from publishing connections. The producer
    // pauses instead of piling publishes into amqplib's buffer (publisher.ts).
    model.on('blocked', (reason: string) => {
      this.isBlocked = true;
      log.warn({ reason }, 'broker blocked the connection (resource alarm): publishing paused');
      this.events.emit('blocked');
    });
    model.on('unblocked', () => {
      this.isBlocked = false;
      log.info('broker unblocked the connection: publishing resumed');
      this.events.emit('unblocked');
    });
  }

  static async open(url: string, options: ConnectOptions): Promise<BrokerConnection> {
    const r = options.reconnect ?? {};
    let model: RecoveringChannelModel;
    try {
      const args = connectArgs(url, options.heartbeatSeconds ?? Defaults.heartbeatSeconds);
      model = await amqp.connect(args.url, {
        // Nagle's algorithm held every small control frame (basic.qos, an ack, a small file's packets)
        // for up to ~20 ms waiting for the previous one's ACK: 32 small files/s with it, 249 without.
        noDelay: true,
        ...options.tls,
        ...(args.credentials && { credentials: args.credentials }),
        recovery: {
          initialDelay: r.initialDelayMs ?? Defaults.reconnectInitialDelayMs,
          maxDelay: r.maxDelayMs ?? Defaults.reconnectMaxDelayMs,
          maxRetries: r.maxRetries ?? Infinity,
          initialMaxRetries: 0,
        },
      });
    } catch (cause) {
      const detail = redactedMessage(cause, url);
      throw new BrokerError(`cannot reach the broker at ${redactUrl(url)} (${detail}); ${hintFor(cause, detail)}`, { cause });
    }
    return new BrokerConnection(model, options.logger);
  }

  /** Connected now (false while reconnecting or after close). */
  get connected(): boolean {
    return this.isConnected && !this.closedByUs;
  }

  /** The broker is holding back this connection's publishes (resource alarm). */
  get blocked(): boolean {
    return this.isBlocked;
  }

  /** False once closed by us or after reconnection gave up: nothing more will work. */
  get usable(): boolean {
    return !this.closedByUs && this.failure === undefined;
  }

  get generation(): number {
    return this.gen;
  }

  on(event: ConnectionEvent, listener: () => void): void {
    this.events.on(event, listener);
  }

  off(event: ConnectionEvent, listener: () => void): void {
    this.events.off(event, listener);
  }

  /** A channel on the current connection, waiting for a reconnection if there is none right now. */
  createChannel(): Promise<Channel> {
    this.throwIfUnusable();
    return this.model.createChannel();
  }

  createConfirmChannel(): Promise<ConfirmChannel> {
    this.throwIfUnusable();
    return this.model.createConfirmChannel();
  }

  async close(): Promise<void> {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.events.emit('ended');
    await this.model.close().catch(() => undefined);
  }

  private throwIfUnusable(): void {
    if (this.closedByUs) throw new BrokerError('the broker connection was closed');
    if (this.failure) throw new BrokerError(`gave up reconnecting to the broker: ${this.failure.message}`, { cause: this.failure });
  }
}

/** A socket or TLS error may quote the URL it failed on; never let its password through. */
function redactedMessage(cause: unknown, url: string): string {
  let text = messageOf(cause);
  for (const password of passwordForms(url)) text = text.split(password).join('***');
  return text;
}

/** What to check, by what went wrong: the broker's absence, its certificate, or the credentials. */
function hintFor(cause: unknown, detail: string): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (/certificate required/i.test(detail)) return 'the broker wants a client certificate: set FILEPEER_AMQP_CERT_FILE and FILEPEER_AMQP_KEY_FILE';
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|HOSTNAME/i.test(code)) {
    return "check the broker's certificate and FILEPEER_AMQP_CA_FILE / FILEPEER_AMQP_SERVERNAME";
  }
  if (/ACCESS[-_]REFUSED|403/.test(detail)) return 'check the user name and password';
  if (/certificate|ssl|tls/i.test(detail)) return "check the TLS settings (FILEPEER_AMQP_CA_FILE, FILEPEER_AMQP_CERT_FILE/KEY_FILE)";
  return 'is RabbitMQ running? (start it with: rabbitmq-server -detached)';
}
