import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from '../broker/connect.js';
import { deadLetterExchangeOf, declareGroupQueue, type Topology } from '../broker/topology.js';
import { DeadLetterer } from './dead-letter.js';

export interface BindingSpec {
  topology: Topology;
  group: string;
  pattern: string;
  prefetch: number;
  /** Channel-wide prefetch, resized as transfers open and close; else fixed per consumer. */
  dynamicPrefetch: boolean;
}

/**
 * A subscription's hold on the broker for the life of one connection: the consuming channel,
 * the confirm channel dead letters are published on, the consumer. When either channel closes
 * (the connection went, or the broker closed a channel), the binding is dead: every delivery it
 * made returns to the queue, so nothing it delivered may be acked or dead-lettered any more.
 * The subscription opens a new binding and takes the deliveries again.
 */
export class Binding {
  private alive = true;
  private consumerTag: string | undefined;
  readonly deadLetterer: DeadLetterer;

  private constructor(
    readonly channel: Channel,
    readonly deadLetterChannel: ConfirmChannel,
    readonly queue: string,
    readonly deadLetterQueue: string,
    spec: BindingSpec,
  ) {
    this.deadLetterer = new DeadLetterer(deadLetterChannel, deadLetterExchangeOf(spec.topology), spec.group, queue);
  }

  /**
   * Open channels, declare the group's queues, set the prefetch, and start consuming. `onDead`
   * runs once, when the binding dies for any reason but our own close().
   */
  static async open(
    broker: BrokerConnection,
    spec: BindingSpec,
    onMessage: (msg: ConsumeMessage, binding: Binding) => void,
    onDead: (binding: Binding, err: Error | undefined) => void,
  ): Promise<Binding> {
    const channel = await broker.createChannel();
    let deadLetterChannel: ConfirmChannel | undefined;
    try {
      deadLetterChannel = await broker.createConfirmChannel();
      const { queue, deadLetterQueue } = await declareGroupQueue(channel, spec.topology, spec.group, spec.pattern);
      // Dynamic: channel-wide ("global" in RabbitMQ's sense), the only prefetch a running consumer
      // sees change. Fixed: per consumer, set before basic.consume.
      await channel.prefetch(spec.prefetch, spec.dynamicPrefetch);
      const binding = new Binding(channel, deadLetterChannel, queue, deadLetterQueue, spec);
      let lastError: Error | undefined;
      const die = (): void => {
        if (!binding.alive) return;
        binding.alive = false;
        onDead(binding, lastError);
        // The other channel is of no use alone; closing it returns its deliveries too.
        channel.close().catch(() => undefined);
        binding.deadLetterChannel.close().catch(() => undefined);
      };
      for (const ch of [channel, deadLetterChannel]) {
        ch.on('error', (err: Error) => {
          lastError = err;
        });
        ch.on('close', die);
      }
      const { consumerTag } = await channel.consume(queue, (msg) => {
        // A null delivery is the broker cancelling the consumer (queue deleted): the binding is done.
        if (msg) onMessage(msg, binding);
        else die();
      }, { noAck: false });
      binding.consumerTag = consumerTag;
      return binding;
    } catch (err) {
      await channel.close().catch(() => undefined);
      await deadLetterChannel?.close().catch(() => undefined);
      throw err;
    }
  }

  get live(): boolean {
    return this.alive;
  }

  /** Ack, if this binding still can: a delivery of a dead binding is back in the queue already. */
  ack(msg: ConsumeMessage): void {
    if (!this.alive) return;
    try {
      this.channel.ack(msg);
    } catch {
      // The channel is closing under us: the 'close' that follows marks the binding dead.
    }
  }

  nack(msg: ConsumeMessage): void {
    if (!this.alive) return;
    try {
      this.channel.nack(msg, false, false);
    } catch {
      // As for ack.
    }
  }

  /** Ready messages and consumers (ours included) of the group's queue, as the broker counts them now. */
  async queueState(): Promise<{ messageCount: number; consumerCount: number }> {
    const { messageCount, consumerCount } = await this.channel.checkQueue(this.queue);
    return { messageCount, consumerCount };
  }

  async resizePrefetch(count: number): Promise<void> {
    if (this.alive) await this.channel.prefetch(count, true);
  }

  /** Stop deliveries; the channels stay open so what is in hand can still be acked. */
  async cancel(): Promise<void> {
    if (this.alive && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
  }

  /** Close both channels: unacked deliveries return to the queue. Not reported through onDead. */
  async close(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    await this.channel.close().catch(() => undefined);
    await this.deadLetterChannel.close().catch(() => undefined);
  }
}
