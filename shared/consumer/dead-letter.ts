import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Header } from '../protocol/constants.js';
import { reasonOf, messageOf } from '../errors.js';

const MAX_DETAIL = 1024;

/**
 * Moves a packet a receiver gives up on to the group's dead-letter queue, with the reason
 * (the error's code) and its message in headers, then lets the caller ack the original.
 * Publishing ourselves, rather than `reject`, is what lets the reason travel with the packet.
 */
export class DeadLetterer {
  constructor(
    private readonly channel: ConfirmChannel,
    private readonly exchange: string,
    private readonly group: string,
    private readonly queue: string,
  ) {}

  async send(msg: ConsumeMessage, err: unknown): Promise<void> {
    const detail = messageOf(err).slice(0, MAX_DETAIL);
    const { properties, fields } = msg;
    const dead = {
      [Header.DeadReason]: reasonOf(err),
      [Header.DeadDetail]: detail,
      [Header.DeadGroup]: this.group,
      [Header.DeadQueue]: this.queue,
      [Header.DeadRoutingKey]: fields.routingKey,
      [Header.DeadAt]: new Date().toISOString(),
    };
    const original = (properties.headers ?? {}) as Record<string, unknown>;
    try {
      await this.publish(msg, { ...original, ...dead });
    } catch {
      // The original headers plus ours may not encode (amqplib builds headers in a 64 KiB buffer, and a
      // hostile packet can come close to it): keep only the protocol's own, so the reason still travels.
      const ours = Object.fromEntries(Object.entries(original).filter(([k]) => k.startsWith('x-filepeer-')));
      await this.publish(msg, { ...ours, ...dead });
    }
  }

  private publish(msg: ConsumeMessage, headers: Record<string, unknown>): Promise<void> {
    const { properties } = msg;
    return new Promise<void>((resolve, reject) => {
      this.channel.publish(
        this.exchange,
        this.group,
        msg.content,
        {
          persistent: true,
          headers,
          type: properties.type,
          messageId: properties.messageId,
          contentType: properties.contentType,
          appId: properties.appId,
        },
        (failure: unknown) => (failure ? reject(failure) : resolve()),
      );
    });
  }
}
