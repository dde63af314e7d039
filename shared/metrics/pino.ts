import type { Logger } from '../log.js';
import type { MetricEvent, MetricsSink } from './types.js';

/** The default: one `metric` log line per event, beside the other JSON log lines. */
export class LogMetricsSink implements MetricsSink {
  constructor(private readonly logger: Logger) {}

  emit(e: MetricEvent): void {
    this.logger.info({ ...e.context, ...e.dimensions, metric: e.name, value: e.value, unit: e.unit }, 'metric');
  }
}
