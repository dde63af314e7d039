import type { Logger } from '../log.js';
import { EmfMetricsSink } from './emf.js';
import { LogMetricsSink } from './pino.js';
import { Metrics, type MetricsSink } from './types.js';

export { Metrics, type MetricEvent, type MetricsSink, type MetricUnit } from './types.js';

/** EMF on stdout inside Lambda (AWS_LAMBDA_FUNCTION_NAME is set there), a JSON log line elsewhere. */
export function metricsSinkFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): MetricsSink {
  return env['AWS_LAMBDA_FUNCTION_NAME'] ? new EmfMetricsSink() : new LogMetricsSink(logger);
}

export function metricsFromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): Metrics {
  return new Metrics(metricsSinkFromEnv(logger, env));
}
