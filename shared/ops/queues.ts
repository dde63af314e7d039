import type { Channel } from 'amqplib';
import { BrokerError, messageOf } from '../errors.js';

export interface QueueDepth {
  exists: boolean;
  /** Messages ready for delivery (queue.declare-ok does not count those delivered and unacked). */
  messages: number;
  consumers: number;
}

/** What opens channels: the peer's BrokerConnection, or a plain amqplib connection in tests. */
export interface ChannelSource {
  createChannel(): Promise<Channel>;
}

/**
 * A queue's depth and consumers by a passive declare, on a channel of its own: the broker closes the
 * channel a passive declare of a missing queue ran on, and that must not take other work with it.
 */
export async function inspectQueue(connection: ChannelSource, queue: string): Promise<QueueDepth> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    const ok = await channel.checkQueue(queue);
    return { exists: true, messages: ok.messageCount, consumers: ok.consumerCount };
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return { exists: false, messages: 0, consumers: 0 };
    throw new BrokerError(`cannot inspect queue ${queue}: ${messageOf(err)}`, { cause: err });
  } finally {
    await channel.close().catch(() => undefined);
  }
}
