import type { Readable } from 'node:stream';
import { Defaults } from './config/defaults.js';
import { amqpUrlFromEnv } from './config/env.js';
import { BrokerConnection, type ReconnectOptions } from './broker/connect.js';
import type { TlsOptions } from './broker/tls.js';
import { brokerAllowsGlobalPrefetch } from './broker/capabilities.js';
import { type Topology } from './broker/topology.js';
import { defaultLogger, type Logger } from './log.js';
import {
  broadcastData,
  broadcastFile,
  type BroadcastOptions,
  type BroadcastResult,
  type ProducerContext,
} from './producer/broadcast.js';
import { Subscription } from './consumer/subscription.js';
import type { FileCallback, SubscribeOptions } from './consumer/types.js';
import type { Location } from './sinks/types.js';
import { assertDomain } from './protocol/validate.js';
import type { ByteSource } from './producer/chunker.js';

export interface FilepeerOptions {
  /** Broker URL (default: FILEPEER_AMQP_URL, AMQP_URL, then amqp://guest:guest@127.0.0.1:5672). */
  url?: string;
  /** Topic exchange (default `file broadcast`). */
  exchange?: string;
  /** Routing-key prefix (default `nanite.filepeer`). */
  routingPrefix?: string;
  heartbeatSeconds?: number;
  confirmWindowMessages?: number;
  confirmWindowBytes?: number;
  confirmTimeoutMs?: number;
  /** For amqps://: CA bundle, client certificate (default: node's CA store). */
  tls?: TlsOptions;
  /** Backoff when the connection is lost (default: 200 ms doubling to 5 s, forever). */
  reconnect?: ReconnectOptions;
  /** A broadcast fails when a lost connection is not back within this long (default 60 s). */
  reconnectTimeoutMs?: number;
  logger?: Logger;
}

/**
 * A peer on the broker: it broadcasts files and subscribes to domains, over one connection.
 * Nanite's agent API, kept in spirit: broadcastFile / subscribeToFiles with a callback per domain.
 */
export class Filepeer {
  readonly topology: Topology;
  /** Open subscriptions, to close with the peer (only `close` is needed of them). */
  private readonly subscriptions = new Set<{ close(): Promise<void> }>();
  private readonly producer: ProducerContext;
  private globalPrefetch: Promise<boolean> | undefined;
  private readonly tls: TlsOptions | undefined;
  private constructor(
    readonly connection: BrokerConnection,
    private readonly url: string,
    options: FilepeerOptions,
    readonly logger: Logger,
  ) {
    this.topology = {
      exchange: options.exchange ?? Defaults.exchange,
      routingPrefix: options.routingPrefix ?? Defaults.routingPrefix,
    };
    assertDomain(this.topology.routingPrefix);
    this.tls = options.tls;
    this.producer = {
      broker: connection,
      topology: this.topology,
      confirmWindowMessages: options.confirmWindowMessages,
      confirmWindowBytes: options.confirmWindowBytes,
      confirmTimeoutMs: options.confirmTimeoutMs,
      reconnectTimeoutMs: options.reconnectTimeoutMs,
    };
  }

  static async connect(options: FilepeerOptions = {}): Promise<Filepeer> {
    const logger = options.logger ?? defaultLogger();
    const url = options.url ?? amqpUrlFromEnv();
    const connection = await BrokerConnection.open(url, {
      heartbeatSeconds: options.heartbeatSeconds,
      logger,
      tls: options.tls,
      reconnect: options.reconnect,
    });
    return new Filepeer(connection, url, options, logger);
  }

  /**
   * False once the peer was closed or gave up reconnecting: a cached peer must be replaced. A peer
   * that is reconnecting is still open: what it is asked to do waits for the connection.
   */
  get isOpen(): boolean {
    return this.connection.usable;
  }

  /** Broadcast a file; resolves when every packet is confirmed by the broker. */
  broadcastFile(path: string, options?: BroadcastOptions): Promise<BroadcastResult> {
    return broadcastFile(this.producer, path, options);
  }

  /** Broadcast a stream as the file `filename`. */
  broadcastData(
    filename: string,
    source: Readable | ByteSource,
    options?: BroadcastOptions,
  ): Promise<BroadcastResult> {
    return broadcastData(this.producer, filename, source, options);
  }

  /** Receive every file broadcast on `domain` (a domain or a pattern with `*` / `#`) as `options.group`. */
  async subscribeToFiles<L extends Location>(
    domain: string,
    options: SubscribeOptions<L>,
    callback: FileCallback<L>,
  ): Promise<Subscription<L>> {
    const dynamic = options.prefetch === undefined && (await this.brokerAllowsGlobalPrefetch());
    const sub = await Subscription.open(this.connection, this.topology, domain, { logger: this.logger, ...options }, callback, dynamic);
    this.subscriptions.add(sub);
    return sub;
  }

  /** Asked once per peer, on a throwaway connection (see broker/capabilities.ts). */
  private brokerAllowsGlobalPrefetch(): Promise<boolean> {
    this.globalPrefetch ??= brokerAllowsGlobalPrefetch(this.url, this.tls).then((allowed) => {
      if (!allowed) this.logger.warn('the broker refuses a channel-wide prefetch (RabbitMQ 4.3+): using a fixed per-consumer prefetch');
      return allowed;
    });
    return this.globalPrefetch;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await this.connection.close().catch(() => undefined);
  }
}
