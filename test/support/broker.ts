import { randomBytes } from 'node:crypto';
import * as amqp from 'amqplib';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { pino } from 'pino';
import { Filepeer, type FilepeerOptions } from '../../shared/index.js';
import { amqpUrlFromEnv } from '../../shared/config/env.js';
import { Defaults } from '../../shared/config/defaults.js';
import { deadLetterQueueName, groupQueueName, routingKeyOf } from '../../shared/broker/topology.js';
import { Header } from '../../shared/protocol/constants.js';
import type { EncodedPacket } from '../../shared/protocol/codec.js';

// This machine runs Node 20; the AWS SDK's notice that its 2027 releases need Node 22 is not news
// to the tests (the functions run on nodejs22.x).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** Quiet unless FILEPEER_LOG_LEVEL asks otherwise: test output is the test runner's. */
export const testLogger = pino({ level: process.env['FILEPEER_LOG_LEVEL'] ?? 'silent' });

export const BROKER_URL = amqpUrlFromEnv();

/** A name no other test (or earlier run) uses. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function connectPeer(options: FilepeerOptions = {}): Promise<Filepeer> {
  return Filepeer.connect({ url: BROKER_URL, logger: testLogger, ...options });
}

/** A plain amqplib connection for what a test does behind filepeer's back. */
export async function rawBroker(): Promise<{ connection: ChannelModel; channel: Channel; close(): Promise<void> }> {
  const connection = await amqp.connect(BROKER_URL);
  const channel = await connection.createChannel();
  return {
    connection,
    channel,
    async close() {
      await connection.close().catch(() => undefined);
    },
  };
}

/** Publish encoded packets as a hostile or broken sender would: straight onto the exchange. */
export async function injectPackets(domain: string, packets: readonly EncodedPacket[]): Promise<void> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (const p of packets) channel.publish(Defaults.exchange, routingKeyOf(Defaults, domain), p.content, p.options);
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

export interface DeadLetter {
  reason: string;
  detail: string;
  type: string | undefined;
  messageId: string | undefined;
  content: Buffer;
  /**
   * Dead-lettered by the broker (the group queue's x-dead-letter-exchange, which adds `x-death`), not
   * by filepeer with a reason: the fallback when the receiver cannot publish its copy (PROTOCOL §10.2).
   */
  byBroker: boolean;
}

/** Take everything in a group's dead-letter queue. */
export async function drainDeadLetters(channel: Channel, group: string): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  for (;;) {
    const msg: GetMessage | false = await channel.get(deadLetterQueueName(group), { noAck: true });
    if (!msg) return out;
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    out.push({
      reason: String(headers[Header.DeadReason]),
      detail: String(headers[Header.DeadDetail]),
      type: msg.properties.type as string | undefined,
      messageId: msg.properties.messageId as string | undefined,
      content: msg.content,
      byBroker: headers['x-death'] !== undefined,
    });
  }
}

/** Remove the queues a group declared for a pattern. */
export async function deleteGroup(channel: Channel, group: string, ...patterns: string[]): Promise<void> {
  for (const p of patterns) await channel.deleteQueue(groupQueueName(group, p));
  await channel.deleteQueue(deadLetterQueueName(group));
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether a queue exists, asked on a channel of its own (a failed check closes the channel it ran on). */
export async function queueExists(connection: { createChannel(): Promise<Channel> }, queue: string): Promise<boolean> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkQueue(queue);
    await channel.close();
    return true;
  } catch {
    return false;
  }
}
