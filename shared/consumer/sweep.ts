import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { topicMatches } from '../protocol/topic.js';
import type { PersistedTransfer } from '../sinks/state.js';
import type { Sink } from '../sinks/types.js';
import type { Binding } from './binding.js';

export interface SweepContext {
  binding: Binding;
  sink: Sink;
  group: string;
  /** The subscription's domain pattern: only transfers whose packets would come to its queue. */
  pattern: string;
  idleTimeoutMs: number;
  /** Open in this receiver: alive, not stale. */
  isOpen(token: string): boolean;
  /** Deliveries received and not yet processed: one of them may belong to a "stale" transfer. */
  deliveriesWaiting(): number;
  log: Logger;
}

/**
 * Remove persisted transfers nobody will finish: a receiver crashed with all of a transfer's chunks
 * durable and acked, and its producer died too, so no packet of it will ever come to resume it.
 * Nanite leaked such state forever. Only safe when no packet of the transfer can be anywhere: this
 * consumer is the queue's only one (a waiting single-active consumer cannot see what the active one
 * holds), the queue is empty, and nothing delivered is waiting to be processed. A state untouched
 * for the idle timeout is then abandoned, as an idle transfer in memory would be.
 * Returns the tokens removed.
 */
export async function sweepStaleTransfers(ctx: SweepContext): Promise<string[]> {
  let stale: PersistedTransfer[];
  try {
    const queue = await ctx.binding.queueState();
    if (queue.consumerCount !== 1 || queue.messageCount !== 0 || ctx.deliveriesWaiting() > 0) return [];
    stale = await ctx.sink.stale(ctx.group, new Date(Date.now() - ctx.idleTimeoutMs));
  } catch (err) {
    ctx.log.warn({ err: messageOf(err) }, 'cannot look for stale transfer state');
    return [];
  }
  const removed: string[] = [];
  for (const state of stale) {
    if (ctx.isOpen(state.token) || !topicMatches(ctx.pattern, state.start.domain)) continue;
    try {
      const writer = await ctx.sink.open({ token: state.token, group: ctx.group, start: state.start }, state);
      await writer.abort();
    } catch (err) {
      ctx.log.warn({ token: state.token, err: messageOf(err) }, 'cannot remove stale transfer state');
      continue;
    }
    removed.push(state.token);
    ctx.log.warn(
      { token: state.token, destination: state.start.destination, durableBytes: state.durableBytes, updatedAt: state.updatedAt, reason: 'abandoned' },
      'stale transfer removed: its state was untouched for the idle timeout and no packet of it is queued',
    );
  }
  return removed;
}
