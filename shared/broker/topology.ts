import type { Channel } from 'amqplib';
import { ConfigError } from '../errors.js';

/** Names of everything a filepeer deployment declares on the broker. Built here, never inline. */
export interface Topology {
  exchange: string;
  routingPrefix: string;
}

const GROUP = /^[A-Za-z0-9_-]{1,100}$/;

export function assertGroup(group: string): string {
  if (!GROUP.test(group)) throw new ConfigError(`group ${JSON.stringify(group)} must be 1-100 characters of [A-Za-z0-9_-]`);
  return group;
}

/** AMQP short strings (queue names, routing keys) are at most 255 bytes. */
const MAX_NAME_BYTES = 255;

function checkLength(kind: string, name: string): string {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new ConfigError(`${kind} ${JSON.stringify(name.slice(0, 40))}… is longer than ${MAX_NAME_BYTES} bytes`);
  }
  return name;
}

export function routingKeyOf(topology: Topology, domain: string): string {
  return checkLength('routing key', `${topology.routingPrefix}.${domain}`);
}

/** The domain a routing key carries, or null when the key is not under our prefix. */
export function domainOfRoutingKey(topology: Topology, routingKey: string): string | null {
  const prefix = `${topology.routingPrefix}.`;
  return routingKey.startsWith(prefix) ? routingKey.slice(prefix.length) : null;
}

/** One durable queue per (group, domain pattern): every group gets its own copy of every file. */
export function groupQueueName(group: string, pattern: string): string {
  return checkLength('queue name', `filepeer.${group}.${pattern}`);
}

export function deadLetterExchangeOf(topology: Topology): string {
  return `${topology.exchange}.dead-letter`;
}

/** Outside the `filepeer.<group>.` space, so no domain pattern can collide with it. */
export function deadLetterQueueName(group: string): string {
  return `filepeer-dead-letter.${group}`;
}

export async function declareExchange(channel: Channel, topology: Topology): Promise<void> {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
}

/**
 * Declare the group's queue and its dead-letter queue, and bind it to the domain pattern.
 * `x-single-active-consumer` makes the broker deliver to one consumer of the group at a
 * time and fail over to the next: two processes of one group never split a file (Nanite's
 * shared queue did).
 */
export async function declareGroupQueue(
  channel: Channel,
  topology: Topology,
  group: string,
  pattern: string,
): Promise<{ queue: string; deadLetterQueue: string }> {
  const dlx = deadLetterExchangeOf(topology);
  const deadLetterQueue = deadLetterQueueName(group);
  const queue = groupQueueName(group, pattern);
  await declareExchange(channel, topology);
  await channel.assertExchange(dlx, 'direct', { durable: true });
  await channel.assertQueue(deadLetterQueue, { durable: true });
  await channel.bindQueue(deadLetterQueue, dlx, group);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: {
      'x-single-active-consumer': true,
      // Fallback: a packet we could not dead-letter ourselves is rejected into the same place.
      'x-dead-letter-exchange': dlx,
      'x-dead-letter-routing-key': group,
    },
  });
  await channel.bindQueue(queue, topology.exchange, routingKeyOf(topology, pattern));
  return { queue, deadLetterQueue };
}
