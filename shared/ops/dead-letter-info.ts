import type { Message } from 'amqplib';
import { Header } from '../protocol/constants.js';

/** What an operator needs to know of one dead-lettered packet, read from its headers. */
export interface DeadLetterInfo {
  /** The error code filepeer gave it, or `broker:<reason>` when the broker dead-lettered it (the fallback). */
  reason: string;
  detail: string;
  /** The group queue it came from and its original routing key: where a replay puts it back. */
  queue: string | undefined;
  routingKey: string | undefined;
  at: string | undefined;
  type: string | undefined;
  token: string | undefined;
  seq: number | undefined;
  bytes: number;
  /** Dead-lettered by the broker (x-death), not by a receiver with a reason (PROTOCOL §10.2). */
  byBroker: boolean;
  /** Times `filepeer dlq replay` put it back already. */
  replays: number;
}

/** Header of replay counts, so that a packet that keeps failing is recognisable in `dlq list`. */
export const REPLAYS_HEADER = 'x-filepeer-replays';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString() : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The broker's own record (`x-death`, newest first) for a packet rejected into the dead-letter queue. */
function firstDeath(headers: Record<string, unknown>): { queue?: string; reason?: string; routingKey?: string; time?: number } {
  const deaths = headers['x-death'];
  const oldest = Array.isArray(deaths) ? (deaths[deaths.length - 1] as Record<string, unknown> | undefined) : undefined;
  const keys = oldest?.['routing-keys'];
  const time = oldest?.['time'];
  return {
    queue: str(headers['x-first-death-queue']) ?? str(oldest?.['queue']),
    reason: str(headers['x-first-death-reason']) ?? str(oldest?.['reason']),
    routingKey: Array.isArray(keys) ? str(keys[0]) : undefined,
    time: typeof time === 'number' ? time : num((time as { value?: unknown } | undefined)?.value),
  };
}

export function describeDeadLetter(msg: Pick<Message, 'content' | 'properties'>): DeadLetterInfo {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const common = {
    type: str(msg.properties.type),
    token: str(headers[Header.Token]),
    seq: num(headers[Header.Seq]),
    bytes: msg.content.length,
    replays: num(headers[REPLAYS_HEADER]) ?? 0,
  };
  const reason = str(headers[Header.DeadReason]);
  if (reason !== undefined) {
    return {
      ...common,
      reason,
      detail: str(headers[Header.DeadDetail]) ?? '',
      queue: str(headers[Header.DeadQueue]),
      routingKey: str(headers[Header.DeadRoutingKey]),
      at: str(headers[Header.DeadAt]),
      byBroker: false,
    };
  }
  const death = firstDeath(headers);
  return {
    ...common,
    reason: `broker:${death.reason ?? 'unknown'}`,
    detail: 'dead-lettered by the broker (the receiver could not publish it with a reason)',
    queue: death.queue,
    routingKey: death.routingKey,
    at: death.time === undefined ? undefined : new Date(death.time * 1000).toISOString(),
    byBroker: true,
  };
}

/** Whether a dead letter is one an operator picked with `--token` / `--reason`. */
export function matchesFilter(info: DeadLetterInfo, filter: { token: string | undefined; reason: string | undefined }): boolean {
  return (filter.token === undefined || info.token === filter.token) && (filter.reason === undefined || info.reason === filter.reason);
}
