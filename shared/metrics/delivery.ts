import type { ReceiverPlan, ReceiverReport } from '../receiver/run.js';
import type { Metrics } from './types.js';

type OnFile = NonNullable<ReceiverPlan['onFile']>;

/** Wrap a receiver plan's onFile: a count and the bytes of every delivered file, and failed handlers. */
export function countDeliveries(metrics: Metrics, next?: OnFile): OnFile {
  return (file, handled) => {
    const dimensions = { group: file.group, domain: file.domain };
    const context = { token: file.token };
    metrics.count('FilesDelivered', dimensions, 1, context);
    metrics.bytes('BytesDelivered', dimensions, file.size, context);
    if (!handled.ok) metrics.count('HandlerFailures', dimensions, 1, context);
    next?.(file, handled);
  };
}

/** What a receive run (a Lambda invocation, a worker's life) did, from runReceiver's report. */
export function countRun(metrics: Metrics, group: string, report: ReceiverReport, durationMs: number): void {
  const dimensions = { group };
  const sum = (key: 'deadLettered' | 'transfersFailed' | 'transfersAbandoned' | 'transfersResumed' | 'duplicatesDropped'): number =>
    report.stats.reduce((n, s) => n + s[key], 0);
  metrics.duration('ReceiveRunDuration', dimensions, durationMs);
  metrics.count('DeadLettered', dimensions, sum('deadLettered'));
  metrics.count('TransfersFailed', dimensions, sum('transfersFailed'));
  metrics.count('TransfersAbandoned', dimensions, sum('transfersAbandoned'));
  metrics.count('TransfersResumed', dimensions, sum('transfersResumed'));
  metrics.count('DuplicatesDropped', dimensions, sum('duplicatesDropped'));
}
