import { reasonOf } from '../errors.js';
import type { BroadcastResult } from '../producer/broadcast.js';
import type { Metrics } from './types.js';

/** One broadcast that every receiver's queue confirmed. */
export function countBroadcast(metrics: Metrics, result: BroadcastResult, durationMs: number): void {
  const dimensions = { domain: result.domain };
  const context = { token: result.token };
  metrics.count('FilesSent', dimensions, 1, context);
  metrics.bytes('BytesSent', dimensions, result.bytes, context);
  metrics.duration('BroadcastDuration', dimensions, durationMs, context);
  if (result.republished > 0) metrics.count('PacketsRepublished', dimensions, result.republished, context);
}

/** A broadcast that failed, by reason (the error's code: unroutable, broker, …). */
export function countBroadcastFailure(metrics: Metrics, domain: string, err: unknown): void {
  metrics.count('BroadcastFailures', { domain, reason: reasonOf(err) });
}

/** The broadcast Lambda's records: sent ones by domain, failed ones by whether Lambda will retry them. */
export function countBroadcastOutcomes(
  metrics: Metrics,
  outcomes: readonly { ok: boolean; domain?: string; token?: string; bytes?: number; retryable?: boolean }[],
  durationMs: number,
): void {
  for (const o of outcomes) {
    if (o.ok) {
      const dimensions = { domain: o.domain ?? 'unknown' };
      const context = o.token ? { token: o.token } : undefined;
      metrics.count('FilesSent', dimensions, 1, context);
      metrics.bytes('BytesSent', dimensions, o.bytes ?? 0, context);
    } else {
      metrics.count('BroadcastFailures', { reason: o.retryable ? 'retryable' : 'permanent' });
    }
  }
  metrics.duration('BroadcastInvocationDuration', {}, durationMs);
}
