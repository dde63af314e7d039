import { z } from 'zod';
import { ManagementApiError, messageOf } from '../errors.js';
import { redactUrl } from '../config/env.js';

/** A queue as the management API lists it: the one place that can enumerate queues (AMQP cannot). */
export interface ManagedQueue {
  name: string;
  /** Ready + unacknowledged. */
  messages: number;
  unacked: number;
  consumers: number;
}

const queuesSchema = z.array(
  z.object({
    name: z.string(),
    messages: z.number().optional(),
    messages_unacknowledged: z.number().optional(),
    consumers: z.number().optional(),
  }),
);

/**
 * GET /api/queues/<vhost> of the RabbitMQ management plugin, used by `filepeer status` only when a
 * management URL is configured (it is off by default, and on Amazon MQ it is a separate HTTPS
 * endpoint). Credentials: the management URL's own, else the broker URL's.
 */
export async function listQueues(managementUrl: string, amqpUrl: string | undefined): Promise<ManagedQueue[]> {
  const base = new URL(managementUrl);
  const broker = amqpUrl ? new URL(amqpUrl) : undefined;
  const user = decodeURIComponent(base.username || broker?.username || 'guest');
  const password = decodeURIComponent(base.password || broker?.password || 'guest');
  const vhost = broker && broker.pathname.length > 1 ? decodeURIComponent(broker.pathname.slice(1)) : '/';
  // fetch refuses a URL that carries credentials: they go in the Authorization header.
  base.username = '';
  base.password = '';
  const url = new URL(`api/queues/${encodeURIComponent(vhost)}?columns=name,messages,messages_unacknowledged,consumers`, base.href.endsWith('/') ? base : `${base.href}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new ManagementApiError(`management API at ${redactUrl(managementUrl)} unreachable: ${messageOf(cause)}`, { cause });
  }
  if (!response.ok) throw new ManagementApiError(`management API at ${redactUrl(managementUrl)} answered ${response.status} ${response.statusText}`);
  const parsed = queuesSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new ManagementApiError(`management API at ${redactUrl(managementUrl)}: unexpected answer to GET /api/queues`);
  return parsed.data.map((q) => ({ name: q.name, messages: q.messages ?? 0, unacked: q.messages_unacknowledged ?? 0, consumers: q.consumers ?? 0 }));
}

export interface DiscoveredGroup {
  group: string;
  /** pattern → its queue as listed. */
  queues: Map<string, ManagedQueue>;
  deadLetters: ManagedQueue | undefined;
}

/** filepeer's queues among all of a vhost's: `filepeer.<group>.<pattern>` and `filepeer-dead-letter.<group>`. */
export function filepeerGroups(queues: readonly ManagedQueue[]): Map<string, DiscoveredGroup> {
  const groups = new Map<string, DiscoveredGroup>();
  const entry = (group: string): DiscoveredGroup => {
    let g = groups.get(group);
    if (!g) groups.set(group, (g = { group, queues: new Map(), deadLetters: undefined }));
    return g;
  };
  for (const q of queues) {
    // A group is [A-Za-z0-9_-]+ (no dot), so the first dot after it starts the pattern.
    const groupQueue = /^filepeer\.([A-Za-z0-9_-]{1,100})\.(.+)$/.exec(q.name);
    const deadLetters = /^filepeer-dead-letter\.([A-Za-z0-9_-]{1,100})$/.exec(q.name);
    if (groupQueue) entry(groupQueue[1]!).queues.set(groupQueue[2]!, q);
    else if (deadLetters) entry(deadLetters[1]!).deadLetters = q;
  }
  return groups;
}
