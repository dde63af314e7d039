import type { MetricEvent, MetricsSink } from './types.js';

export const METRICS_NAMESPACE = 'filepeer';

/**
 * CloudWatch Embedded Metric Format: a JSON log line that CloudWatch Logs turns into a metric, no
 * PutMetricData call (no latency, no IAM permission, nothing lost when the Lambda freezes). Lambda
 * sends stdout to CloudWatch Logs, so one line on stdout is all it takes.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class EmfMetricsSink implements MetricsSink {
  constructor(
    private readonly write: (line: string) => void = (line) => void process.stdout.write(line),
    private readonly namespace: string = METRICS_NAMESPACE,
  ) {}

  emit(e: MetricEvent): void {
    this.write(`${JSON.stringify(emfDocument(e, this.namespace, Date.now()))}\n`);
  }
}

/** The EMF document for one event: dimensions and context are top-level members, as the format wants. */
export function emfDocument(e: MetricEvent, namespace: string, timestamp: number): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [Object.keys(e.dimensions)], Metrics: [{ Name: e.name, Unit: e.unit }] }],
    },
    ...e.context,
    ...e.dimensions,
    [e.name]: e.value,
  };
}
