import { deadLetterQueueName, groupQueueName } from '../broker/topology.js';
import type { Sink } from '../sinks/types.js';
import { listDeadLetters } from './dead-letters.js';
import { inFlightTransfers, type InFlightTransfer } from './in-flight.js';
import { filepeerGroups, listQueues, type DiscoveredGroup } from './management.js';
import { inspectQueue, type ChannelSource } from './queues.js';

/** A group to report on, as named on the command line or in the config file. */
export interface GroupTarget {
  group: string;
  /** Patterns whose queues to look at; empty when only the management API can tell. */
  domains: string[];
  /** Where the group's receiver puts files (its `--to`): its transfer state is there. */
  to: string | undefined;
}

export interface QueueStatus {
  queue: string;
  pattern: string;
  exists: boolean;
  /** Ready messages (AMQP); ready + unacked when the management API answered. */
  messages: number;
  /** Only the management API knows it. */
  unacked: number | undefined;
  consumers: number;
}

export interface GroupStatus {
  group: string;
  queues: QueueStatus[];
  deadLetters: {
    queue: string;
    exists: boolean;
    messages: number;
    /** How many were read to count the reasons (at most `sample`). */
    sampled: number;
    reasons: Record<string, number>;
  };
  /** null: no `--to` for this group, so its transfer state was not read. */
  inFlight: { from: string; transfers: InFlightTransfer[] } | null;
}

export interface StatusReport {
  management: 'used' | 'not configured';
  groups: GroupStatus[];
}

export interface StatusOptions {
  targets: readonly GroupTarget[];
  /** Dead letters read per group to count reasons. */
  sample: number;
  managementUrl: string | undefined;
  amqpUrl: string | undefined;
  sinkFor(to: string): Sink;
}

/**
 * What `filepeer status` shows. AMQP 0.9.1 cannot list queues, so the groups are those named
 * (flags, config file), plus every filepeer queue the management API lists when it is configured.
 * Queue depth and consumers come from a passive declare; dead-letter reasons from reading (and
 * putting back) up to `sample` dead letters; transfers in flight from the state the group's receiver
 * persists in its sink, read where `--to` points.
 */
export async function gatherStatus(connection: ChannelSource, options: StatusOptions): Promise<StatusReport> {
  const discovered = options.managementUrl ? filepeerGroups(await listQueues(options.managementUrl, options.amqpUrl)) : new Map<string, DiscoveredGroup>();
  const targets = new Map(options.targets.map((t) => [t.group, t]));
  for (const group of discovered.keys()) if (!targets.has(group)) targets.set(group, { group, domains: [], to: undefined });
  const groups: GroupStatus[] = [];
  for (const target of targets.values()) groups.push(await groupStatus(connection, target, discovered.get(target.group), options));
  return { management: options.managementUrl ? 'used' : 'not configured', groups };
}

async function groupStatus(connection: ChannelSource, target: GroupTarget, found: DiscoveredGroup | undefined, options: StatusOptions): Promise<GroupStatus> {
  const patterns = [...new Set([...target.domains, ...(found?.queues.keys() ?? [])])];
  const queues: QueueStatus[] = [];
  for (const pattern of patterns) {
    const queue = groupQueueName(target.group, pattern);
    const listed = found?.queues.get(pattern);
    if (listed) {
      queues.push({ queue, pattern, exists: true, messages: listed.messages, unacked: listed.unacked, consumers: listed.consumers });
    } else {
      const depth = await inspectQueue(connection, queue);
      queues.push({ queue, pattern, ...depth, unacked: undefined });
    }
  }
  const dlq = deadLetterQueueName(target.group);
  const dlqDepth = await inspectQueue(connection, dlq);
  const reasons: Record<string, number> = {};
  let sampled = 0;
  if (dlqDepth.messages > 0) {
    const listing = await listDeadLetters(connection, target.group, { token: undefined, reason: undefined }, options.sample);
    for (const letter of listing.letters) reasons[letter.reason] = (reasons[letter.reason] ?? 0) + 1;
    sampled = listing.letters.length;
  }
  return {
    group: target.group,
    queues,
    deadLetters: { queue: dlq, exists: dlqDepth.exists, messages: dlqDepth.messages, sampled, reasons },
    inFlight: target.to === undefined ? null : { from: target.to, transfers: await inFlightTransfers(options.sinkFor(target.to), target.group) },
  };
}
