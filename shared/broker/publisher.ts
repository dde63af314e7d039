import type { ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerError, ConfirmTimeoutError, FilepeerError, PublishNackedError, messageOf } from '../errors.js';
import type { BrokerConnection } from './connect.js';

export interface PublisherOptions {
  /** Most unconfirmed publishes in flight. */
  windowMessages: number;
  /** Most unconfirmed bytes in flight. */
  windowBytes: number;
  /** A publish unconfirmed for this long (the connection up and not blocked) fails the publisher. */
  confirmTimeoutMs: number;
  /** A lost connection not back within this long fails the publisher. */
  reconnectTimeoutMs: number;
}

/** A publish kept until the broker confirms it, so it can be sent again on a new channel. */
interface InFlight {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  sentAt: number;
  settled: boolean;
}

/**
 * Publishes on a confirm channel with a bounded window of unconfirmed messages, across reconnections.
 *
 * amqplib never drops a publish: when its socket buffer is full `publish()` returns false and
 * keeps buffering, without bound. We wait for 'drain' then, and we also stop when the window of
 * unconfirmed messages is full, so a sender's memory is bounded by the window whatever the file
 * size. amqplib may also never call a confirm callback after a network loss, hence the timeout.
 *
 * When the connection is lost, the channel dies with it and every unconfirmed publish is in doubt:
 * the broker may have routed it before the loss. We keep them (the window bounds them), open a
 * new channel once the connection is back, and publish them again in order. Receivers drop the
 * copies that did arrive twice by sequence number. A resource alarm ('blocked') pauses publishing
 * and the confirm clock: a broker out of memory is waiting, not failure.
 * The first failure (nack, timeout, channel error, no reconnection) is sticky: every later call throws it.
 */
export class ConfirmPublisher {
  private readonly inFlight: InFlight[] = [];
  private head = 0;
  private inFlightBytes = 0;
  private channel: ConfirmChannel | undefined;
  /** Which channel a confirm callback belongs to: callbacks of a dead channel are ignored. */
  private channelGen = 0;
  private failure: FilepeerError | undefined;
  private wake: (() => void) | undefined;
  /** Set while amqplib's socket buffer is full (publish returned false) until 'drain'. */
  private needsDrain = false;
  /** Confirm timeouts count from here at the earliest: the last time publishing could resume. */
  private resumedAt = Date.now();
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onBrokerChange = (): void => {
    this.resumedAt = Date.now();
    this.notify();
  };
  /** messageIds the broker returned as unroutable (mandatory flag). */
  readonly returned = new Set<string>();
  /** Publishes sent again on a new channel after the connection was lost. */
  republished = 0;

  private constructor(
    private readonly broker: BrokerConnection,
    /** Run on every new channel before anything is published on it (declare the exchange). */
    private readonly setup: (channel: ConfirmChannel) => Promise<void>,
    private readonly options: PublisherOptions,
  ) {
    broker.on('blocked', this.onBrokerChange);
    broker.on('unblocked', this.onBrokerChange);
    broker.on('ended', this.onBrokerChange);
    const tick = Math.max(10, Math.min(1000, Math.floor(options.confirmTimeoutMs / 4)));
    this.timer = setInterval(() => this.checkTimeout(), tick);
    this.timer.unref();
  }

  static async open(
    broker: BrokerConnection,
    setup: (channel: ConfirmChannel) => Promise<void>,
    options: PublisherOptions,
  ): Promise<ConfirmPublisher> {
    const publisher = new ConfirmPublisher(broker, setup, options);
    try {
      await publisher.attach(await broker.createConfirmChannel());
    } catch (err) {
      publisher.close();
      throw err;
    }
    return publisher;
  }

  get pending(): number {
    return this.inFlight.length - this.head;
  }

  /** Resolves once the message is handed to amqplib and the window has room for the next one. */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    this.throwIfFailed();
    while (!this.channel || this.needsDrain || this.broker.blocked || this.windowFull(content.length)) {
      await this.waitForChange();
      this.throwIfFailed();
    }
    const entry: InFlight = { exchange, routingKey, content, options, sentAt: 0, settled: false };
    this.inFlight.push(entry);
    this.inFlightBytes += content.length;
    this.send(entry, this.channel);
  }

  /** Resolves when every message published so far is confirmed; rejects with the first failure. */
  async flush(): Promise<void> {
    while (this.pending > 0) {
      this.throwIfFailed();
      await this.waitForChange();
    }
    this.throwIfFailed();
  }

  /** Stop: the caller closes nothing else; the channel is closed here. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.broker.off('blocked', this.onBrokerChange);
    this.broker.off('unblocked', this.onBrokerChange);
    this.broker.off('ended', this.onBrokerChange);
    const channel = this.channel;
    this.channel = undefined;
    channel?.close().catch(() => undefined);
  }

  private send(entry: InFlight, channel: ConfirmChannel): void {
    const gen = this.channelGen;
    entry.sentAt = Date.now();
    const ok = channel.publish(entry.exchange, entry.routingKey, entry.content, entry.options, (err: unknown) => {
      if (gen === this.channelGen) this.settle(entry, err);
    });
    if (!ok) this.needsDrain = true;
  }

  private async attach(channel: ConfirmChannel): Promise<void> {
    let channelError: Error | undefined;
    channel.on('return', (msg: Message) => {
      const id = msg.properties.messageId;
      if (typeof id === 'string') this.returned.add(id);
    });
    // A channel error is the broker refusing something (a missing exchange, a bad argument): final.
    channel.on('error', (err: Error) => {
      channelError = err;
      this.fail(new BrokerError(`publish channel failed: ${err.message}`, { cause: err }));
    });
    // Prepended: amqplib's own 'close' listener fails every unconfirmed callback with "channel
    // closed", and those must find the generation moved on (in doubt, to republish — not nacked).
    channel.prependListener('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.channelGen++;
      if (this.closed || channelError) return;
      // Closed with no error of its own: the connection went. Publish what is unconfirmed again.
      void this.recover();
    });
    channel.on('drain', () => {
      this.needsDrain = false;
      this.notify();
    });
    await this.setup(channel);
    this.channelGen++;
    this.channel = channel;
    this.needsDrain = false;
    this.resumedAt = Date.now();
  }

  private async recover(): Promise<void> {
    const giveUp = setTimeout(
      () => this.fail(new BrokerError(`the broker connection did not come back within ${this.options.reconnectTimeoutMs} ms`)),
      this.options.reconnectTimeoutMs,
    );
    try {
      while (!this.failure && !this.closed) {
        try {
          // Waits for amqplib's recovery to reconnect; throws once the connection is closed for good.
          await this.attach(await this.broker.createConfirmChannel());
          break;
        } catch (err) {
          if (!this.broker.usable) {
            this.fail(new BrokerError(`publishing stopped: ${messageOf(err)}`, { cause: err }));
            return;
          }
          // The new connection went too, or the setup failed on it: try again on the next one.
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const channel = this.channel;
      if (!channel || this.failure || this.closed) return;
      for (let i = this.head; i < this.inFlight.length; i++) {
        const entry = this.inFlight[i];
        if (entry && !entry.settled) {
          this.send(entry, channel);
          this.republished++;
        }
      }
    } finally {
      clearTimeout(giveUp);
      this.notify();
    }
  }

  private windowFull(nextBytes: number): boolean {
    if (this.pending === 0) return false;
    return this.pending >= this.options.windowMessages || this.inFlightBytes + nextBytes > this.options.windowBytes;
  }

  private settle(entry: InFlight, err: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    this.inFlightBytes -= entry.content.length;
    // Confirms arrive in publish order, so settled entries collect at the head.
    while (this.head < this.inFlight.length && this.inFlight[this.head]?.settled) {
      // Drop the settled entry's reference at once: its Buffer is a chunk of the file.
      this.inFlight[this.head] = SETTLED;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    if (err) this.fail(new PublishNackedError('the broker refused a publish (nack)', { cause: err }));
    this.notify();
  }

  private checkTimeout(): void {
    // Waiting for a reconnection or a resource alarm to clear is not a confirm going missing.
    if (!this.channel || this.broker.blocked) {
      this.resumedAt = Date.now();
      return;
    }
    const oldest = this.inFlight[this.head];
    if (oldest && !oldest.settled && Date.now() - Math.max(oldest.sentAt, this.resumedAt) > this.options.confirmTimeoutMs) {
      this.fail(new ConfirmTimeoutError(`no confirm from the broker within ${this.options.confirmTimeoutMs} ms`));
    }
  }

  private fail(err: FilepeerError): void {
    this.failure ??= err;
    this.notify();
  }

  private throwIfFailed(): void {
    if (this.closed) throw new BrokerError('the publisher is closed');
    // A connection closed for good is a failure like any other: sticky, so every later call says the same.
    if (!this.broker.usable) this.fail(new BrokerError('the broker connection was closed'));
    if (this.failure) throw this.failure;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }
}

/** Placeholder for a settled entry, so the array holds no chunk Buffers past their confirm. */
const SETTLED: InFlight = Object.freeze({ exchange: '', routingKey: '', content: Buffer.alloc(0), options: {}, sentAt: 0, settled: true }) as InFlight;
