import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import { deadLetterQueueName, type Topology } from '../broker/topology.js';
import { BrokerError, FilepeerError, NoDeadLetterQueueError, messageOf } from '../errors.js';
import { describeDeadLetter, matchesFilter, REPLAYS_HEADER, type DeadLetterInfo } from './dead-letter-info.js';
import { inspectQueue, type ChannelSource } from './queues.js';

export interface DeadLetterFilter {
  token: string | undefined;
  reason: string | undefined;
}

/** What opens confirm channels too (replay waits for the broker to take each packet). */
export interface ConfirmChannelSource extends ChannelSource {
  createConfirmChannel(): Promise<ConfirmChannel>;
}

/**
 * Every dead letter is taken with basic.get and *not* acked: the ones to keep go back to the queue,
 * in their order, when the channel closes. AMQP has no way to look at a message without taking it.
 */
async function eachDeadLetter(
  channel: Channel,
  group: string,
  visit: (msg: GetMessage, info: DeadLetterInfo) => Promise<'stop' | void>,
): Promise<void> {
  const queue = deadLetterQueueName(group);
  for (;;) {
    const msg = await channel.get(queue, { noAck: false });
    if (!msg) return;
    if ((await visit(msg, describeDeadLetter(msg))) === 'stop') return;
  }
}

async function withChannel<C extends Channel, T>(open: () => Promise<C>, group: string, work: (channel: C) => Promise<T>): Promise<T> {
  const channel = await open();
  channel.on('error', () => undefined);
  try {
    return await work(channel);
  } catch (err) {
    if (err instanceof FilepeerError) throw err;
    throw new BrokerError(`dead letters of ${group}: ${messageOf(err)}`, { cause: err });
  } finally {
    // Closing the channel returns every dead letter taken and not acked to the queue.
    await channel.close().catch(() => undefined);
  }
}

async function requireQueue(connection: ChannelSource, group: string): Promise<number> {
  const depth = await inspectQueue(connection, deadLetterQueueName(group));
  if (!depth.exists) throw new NoDeadLetterQueueError(group, deadLetterQueueName(group));
  return depth.messages;
}

export interface DeadLetterListing {
  queue: string;
  /** Messages in the queue when it was read. */
  total: number;
  letters: DeadLetterInfo[];
}

/** Read up to `limit` dead letters (those matching `filter`), leaving all of them in the queue. */
export async function listDeadLetters(connection: ChannelSource, group: string, filter: DeadLetterFilter, limit: number): Promise<DeadLetterListing> {
  const total = await requireQueue(connection, group);
  const letters: DeadLetterInfo[] = [];
  let seen = 0;
  await withChannel(() => connection.createChannel(), group, (channel) =>
    eachDeadLetter(channel, group, async (_msg, info) => {
      seen++;
      if (matchesFilter(info, filter)) letters.push(info);
      // Never past the depth read at the start: what arrives meanwhile is for the next look.
      if (letters.length >= limit || seen >= total) return 'stop';
    }),
  );
  return { queue: deadLetterQueueName(group), total, letters };
}

/** The headers exchange replays go through (see replayDeadLetters). */
export function replayExchangeOf(topology: Topology): string {
  return `${topology.exchange}.replay`;
}

/** Binding argument and message header that pick the one queue a replayed packet goes to. */
export const REPLAY_TO_HEADER = 'filepeer-replay-to';

export interface ReplayResult {
  replayed: number;
  /** Per group queue: how many went back there. */
  byQueue: Record<string, number>;
  /** Left in the dead-letter queue: not matching the filter, or with nowhere to go. */
  left: number;
  problems: string[];
}

/**
 * Put dead letters back into the group queue each came from, and only there: other groups bound to
 * the same domain already had the packet. The packet keeps its original routing key, because a
 * receiver checks a start packet's domain against it (a replay through the default exchange would
 * arrive with the queue's name as its routing key and be dead-lettered again as malformed). So the
 * replay goes through a headers exchange, `<exchange>.replay`, to which each group queue is bound
 * (on first replay) by its own name: the packet carries that name in a header, and the exchange
 * routes it to that queue alone. Each packet is confirmed by the broker before its dead letter is
 * acked: a crash replays a packet twice at worst, which the receiver drops as a duplicate.
 */
export async function replayDeadLetters(
  connection: ConfirmChannelSource,
  topology: Topology,
  group: string,
  filter: DeadLetterFilter,
  limit: number | undefined,
): Promise<ReplayResult> {
  const total = await requireQueue(connection, group);
  const exchange = replayExchangeOf(topology);
  const result: ReplayResult = { replayed: 0, byQueue: {}, left: 0, problems: [] };
  const targets = new Map<string, boolean>();
  await withChannel(() => connection.createConfirmChannel(), group, async (channel) => {
    await channel.assertExchange(exchange, 'headers', { durable: true });
    let returned = false;
    channel.on('return', () => (returned = true));
    let seen = 0;
    await eachDeadLetter(channel, group, async (msg, info) => {
      seen++;
      const stop = seen >= total ? 'stop' : undefined;
      if (!matchesFilter(info, filter)) {
        result.left++;
        return stop;
      }
      const { queue, routingKey } = info;
      if (queue === undefined || routingKey === undefined) {
        result.left++;
        result.problems.push(`${msg.properties.messageId ?? 'a packet'}: no x-filepeer-dead-queue / routing key, nowhere to replay it`);
        return stop;
      }
      if (!targets.has(queue)) {
        const alive = (await inspectQueue(connection, queue)).exists;
        if (alive) await channel.bindQueue(queue, exchange, '', { 'x-match': 'all', [REPLAY_TO_HEADER]: queue });
        else result.problems.push(`queue ${queue} no longer exists: its dead letters stay`);
        targets.set(queue, alive);
      }
      if (!targets.get(queue)) {
        result.left++;
        return stop;
      }
      returned = false;
      await publishConfirmed(channel, exchange, routingKey, msg, queue, info.replays + 1);
      // basic.return comes before the confirm of the message it returns.
      if (returned) {
        result.left++;
        result.problems.push(`${queue} refused a packet (deleted meanwhile?): it stays dead-lettered`);
        return stop;
      }
      channel.ack(msg);
      result.replayed++;
      result.byQueue[queue] = (result.byQueue[queue] ?? 0) + 1;
      if (limit !== undefined && result.replayed >= limit) {
        result.left += total - seen;
        return 'stop';
      }
      return stop;
    });
  });
  return result;
}

/** The packet as its sender published it, minus every dead-lettering header, plus where it goes. */
function replayHeaders(msg: GetMessage, queue: string, replays: number): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((msg.properties.headers ?? {}) as Record<string, unknown>)) {
    if (k.startsWith('x-filepeer-dead-') || k === 'x-death' || k.startsWith('x-first-death-') || k.startsWith('x-last-death-')) continue;
    headers[k] = v;
  }
  return { ...headers, [REPLAY_TO_HEADER]: queue, [REPLAYS_HEADER]: replays };
}

function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, msg: GetMessage, queue: string, replays: number): Promise<void> {
  const p = msg.properties;
  return new Promise((resolve, reject) => {
    channel.publish(
      exchange,
      routingKey,
      msg.content,
      {
        headers: replayHeaders(msg, queue, replays),
        persistent: true,
        mandatory: true,
        type: p.type,
        messageId: p.messageId,
        contentType: p.contentType,
        appId: p.appId,
      },
      (err: unknown) => (err ? reject(new BrokerError(`the broker refused a replayed packet: ${messageOf(err)}`, { cause: err })) : resolve()),
    );
  });
}

export interface PurgeResult {
  purged: number;
  left: number;
}

/** Delete dead letters: all of them (queue.purge), or those matching `filter`, up to `limit`. */
export async function purgeDeadLetters(connection: ChannelSource, group: string, filter: DeadLetterFilter, limit: number | undefined): Promise<PurgeResult> {
  const total = await requireQueue(connection, group);
  if (filter.token === undefined && filter.reason === undefined && limit === undefined) {
    return withChannel(() => connection.createChannel(), group, async (channel) => {
      const { messageCount } = await channel.purgeQueue(deadLetterQueueName(group));
      return { purged: messageCount, left: 0 };
    });
  }
  const result: PurgeResult = { purged: 0, left: 0 };
  await withChannel(() => connection.createChannel(), group, (channel) =>
    eachDeadLetter(channel, group, async (msg, info) => {
      if (matchesFilter(info, filter) && (limit === undefined || result.purged < limit)) {
        channel.ack(msg);
        result.purged++;
      } else {
        result.left++;
      }
      if (result.purged + result.left >= total) return 'stop';
    }),
  );
  return result;
}
