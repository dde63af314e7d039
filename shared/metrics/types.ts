/** CloudWatch's names for the three kinds of value filepeer reports. */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

export interface MetricEvent {
  name: string;
  value: number;
  unit: MetricUnit;
  /** Few distinct values (group, domain): what a dashboard aggregates by. */
  dimensions: Readonly<Record<string, string>>;
  /** Many distinct values (token): on the line for searching, never a dimension (each would be a new metric). */
  context?: Readonly<Record<string, string | number>>;
}

/** Where metric events go: a JSON log line by default, CloudWatch EMF in Lambda (see index.ts). */
export interface MetricsSink {
  emit(event: MetricEvent): void;
}

/** The hook the entry points call: counts, bytes and durations. */
export class Metrics {
  constructor(private readonly sink: MetricsSink) {}

  count(name: string, dimensions: MetricEvent['dimensions'], value = 1, context?: MetricEvent['context']): void {
    this.sink.emit({ name, value, unit: 'Count', dimensions, context });
  }

  bytes(name: string, dimensions: MetricEvent['dimensions'], value: number, context?: MetricEvent['context']): void {
    this.sink.emit({ name, value, unit: 'Bytes', dimensions, context });
  }

  duration(name: string, dimensions: MetricEvent['dimensions'], ms: number, context?: MetricEvent['context']): void {
    this.sink.emit({ name, value: Math.round(ms), unit: 'Milliseconds', dimensions, context });
  }
}
