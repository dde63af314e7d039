import type { ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerError, ConfirmTimeoutError, FilepeerError, PublishNackedError } from '../errors.js';

export interface PublisherOptions {
  /** Most unconfirmed publishes in flight. */
  windowMessages: number;
  /** Most unconfirmed bytes in flight. */
  windowBytes: number;
  /** A publish unconfirmed for this long fails the publisher. */
  confirmTimeoutMs: number;
}

interface InFlight {
  bytes: number;
  sentAt: number;
  settled: boolean;
}

/**
 * Publishes on a confirm channel with a bounded window of unconfirmed messages.
 *
 * amqplib never drops a publish: when its socket buffer is full `publish()` returns false and
 * keeps buffering, without bound. We wait for 'drain' then, and we also stop when the window of
 * unconfirmed messages is full, so a sender's memory is bounded by the window whatever the file
 * size. amqplib may also never call a confirm callback after a network loss, hence the timeout.
 * The first failure (nack, timeout, channel loss) is sticky: every later call throws it.
 */
export class ConfirmPublisher {
  private readonly inFlight: InFlight[] = [];
  private head = 0;
  private inFlightBytes = 0;
  private failure: FilepeerError | undefined;
  private wake: (() => void) | undefined;
  /** Set while amqplib's socket buffer is full (publish returned false) until 'drain'. */
  private needsDrain = false;
  private readonly timer: NodeJS.Timeout;
  /** messageIds the broker returned as unroutable (mandatory flag). */
  readonly returned = new Set<string>();

  constructor(private readonly channel: ConfirmChannel, private readonly options: PublisherOptions) {
    channel.on('return', (msg: Message) => {
      const id = msg.properties.messageId;
      if (typeof id === 'string') this.returned.add(id);
    });
    channel.on('error', (err: Error) => this.fail(new BrokerError(`publish channel failed: ${err.message}`, { cause: err })));
    channel.on('close', () => this.fail(new BrokerError('publish channel closed')));
    channel.on('drain', () => {
      this.needsDrain = false;
      this.notify();
    });
    const tick = Math.max(10, Math.min(1000, Math.floor(options.confirmTimeoutMs / 4)));
    this.timer = setInterval(() => this.checkTimeout(), tick);
    this.timer.unref();
  }

  get pending(): number {
    return this.inFlight.length - this.head;
  }

  /** Resolves once the message is handed to amqplib and the window has room for the next one. */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    this.throwIfFailed();
    while (this.needsDrain || this.windowFull(content.length)) {
      await this.waitForChange();
      this.throwIfFailed();
    }
    const entry: InFlight = { bytes: content.length, sentAt: Date.now(), settled: false };
    this.inFlight.push(entry);
    this.inFlightBytes += entry.bytes;
    const ok = this.channel.publish(exchange, routingKey, content, options, (err: unknown) => this.settle(entry, err));
    if (!ok) this.needsDrain = true;
  }

  private windowFull(nextBytes: number): boolean {
    if (this.pending === 0) return false;
    return this.pending >= this.options.windowMessages || this.inFlightBytes + nextBytes > this.options.windowBytes;
  }

  /** Resolves when every message published so far is confirmed; rejects with the first failure. */
  async flush(): Promise<void> {
    while (this.pending > 0) {
      this.throwIfFailed();
      await this.waitForChange();
    }
    this.throwIfFailed();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private settle(entry: InFlight, err: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    this.inFlightBytes -= entry.bytes;
    // Confirms arrive in publish order, so settled entries collect at the head.
    while (this.head < this.inFlight.length && this.inFlight[this.head]?.settled) this.head++;
    if (this.head > 1024 && this.head * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.head);
      this.head = 0;
    }
    if (err) this.fail(new PublishNackedError('the broker refused a publish (nack)', { cause: err }));
    this.notify();
  }

  private checkTimeout(): void {
    const oldest = this.inFlight[this.head];
    if (oldest && !oldest.settled && Date.now() - oldest.sentAt > this.options.confirmTimeoutMs) {
      this.fail(new ConfirmTimeoutError(`no confirm from the broker within ${this.options.confirmTimeoutMs} ms`));
    }
  }

  private fail(err: FilepeerError): void {
    this.failure ??= err;
    this.notify();
  }

  private throwIfFailed(): void {
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
