import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { EmfMetricsSink, emfDocument } from '../../shared/metrics/emf.js';
import { metricsSinkFromEnv } from '../../shared/metrics/index.js';
import { LogMetricsSink } from '../../shared/metrics/pino.js';
import { countDeliveries, countRun } from '../../shared/metrics/delivery.js';
import { countBroadcast } from '../../shared/metrics/broadcast.js';
import { Metrics, type MetricEvent } from '../../shared/metrics/types.js';
import type { ReceivedFile } from '../../shared/consumer/types.js';
import { TOKEN } from './helpers.js';

class Recorder {
  events: MetricEvent[] = [];
  emit(e: MetricEvent): void {
    this.events.push(e);
  }
}

const file: ReceivedFile = {
  token: TOKEN,
  group: 'archive',
  domain: 'reports',
  filename: 'q3.pdf',
  destination: 'q3.pdf',
  contentType: 'application/pdf',
  size: 1234,
  chunks: 1,
  sha256: 'ab'.repeat(32),
  meta: {},
  location: { kind: 'directory', path: '/srv/q3.pdf' },
};

describe('metrics', () => {
  it('EMF: one document per event, with the metric declared under _aws and its value, dimensions and token top-level', () => {
    const doc = emfDocument({ name: 'BytesDelivered', value: 1234, unit: 'Bytes', dimensions: { group: 'archive', domain: 'reports' }, context: { token: TOKEN } }, 'filepeer', 1_700_000_000_000);
    assert.deepEqual(doc, {
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [{ Namespace: 'filepeer', Dimensions: [['group', 'domain']], Metrics: [{ Name: 'BytesDelivered', Unit: 'Bytes' }] }],
      },
      token: TOKEN,
      group: 'archive',
      domain: 'reports',
      BytesDelivered: 1234,
    });
    const lines: string[] = [];
    new Metrics(new EmfMetricsSink((l) => lines.push(l))).count('FilesDelivered', { group: 'g' });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n') && !lines[0]!.slice(0, -1).includes('\n'), 'one JSON line');
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(parsed['FilesDelivered'], 1);
  });

  it('the default is a JSON log line with the metric, its unit, the dimensions and the token', () => {
    const out: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (out.push(chunk.toString()), cb()) }));
    new Metrics(new LogMetricsSink(logger)).duration('ExecDuration', { group: 'g', domain: 'd' }, 12.6, { token: TOKEN });
    const line = JSON.parse(out[0]!) as Record<string, unknown>;
    assert.deepEqual([line['msg'], line['metric'], line['value'], line['unit'], line['group'], line['domain'], line['token']], ['metric', 'ExecDuration', 13, 'Milliseconds', 'g', 'd', TOKEN]);
  });

  it('EMF inside Lambda (AWS_LAMBDA_FUNCTION_NAME), log lines elsewhere', () => {
    const logger = pino({ level: 'silent' });
    assert.ok(metricsSinkFromEnv(logger, { AWS_LAMBDA_FUNCTION_NAME: 'filepeer-dev-receive' }) instanceof EmfMetricsSink);
    assert.ok(metricsSinkFromEnv(logger, {}) instanceof LogMetricsSink);
  });

  it('the receive path counts files, bytes and failed handlers, then passes the file on', () => {
    const rec = new Recorder();
    const passed: string[] = [];
    const onFile = countDeliveries(new Metrics(rec), (f) => passed.push(f.token));
    onFile(file, { ok: true, result: undefined, none: true });
    onFile(file, { ok: false, error: 'exit 3' });
    assert.deepEqual(passed, [TOKEN, TOKEN]);
    assert.deepEqual(
      rec.events.map((e) => [e.name, e.value, e.unit]),
      [
        ['FilesDelivered', 1, 'Count'],
        ['BytesDelivered', 1234, 'Bytes'],
        ['FilesDelivered', 1, 'Count'],
        ['BytesDelivered', 1234, 'Bytes'],
        ['HandlerFailures', 1, 'Count'],
      ],
    );
    assert.ok(rec.events.every((e) => e.dimensions['group'] === 'archive' && e.dimensions['domain'] === 'reports' && e.context?.['token'] === TOKEN));

    const run = new Recorder();
    const stats = { filesDelivered: 2, deadLettered: 1, duplicatesDropped: 0, transfersFailed: 1, transfersAbandoned: 0, transfersResumed: 3, bindingsLost: 0, inFlight: 0 };
    countRun(new Metrics(run), 'archive', { stoppedBy: 'idle', files: 2, stats: [stats, { ...stats, deadLettered: 4 }] }, 1500);
    const byName = Object.fromEntries(run.events.map((e) => [e.name, e.value]));
    assert.deepEqual(byName, { ReceiveRunDuration: 1500, DeadLettered: 5, TransfersFailed: 2, TransfersAbandoned: 0, TransfersResumed: 6, DuplicatesDropped: 0 });
  });

  it('a broadcast counts a file, its bytes and its duration by domain', () => {
    const rec = new Recorder();
    countBroadcast(new Metrics(rec), { token: TOKEN, domain: 'reports', destination: 'q3.pdf', bytes: 99, chunks: 1, sha256: 'x', republished: 0 }, 42);
    assert.deepEqual(rec.events.map((e) => [e.name, e.value, e.unit, e.dimensions['domain']]), [
      ['FilesSent', 1, 'Count', 'reports'],
      ['BytesSent', 99, 'Bytes', 'reports'],
      ['BroadcastDuration', 42, 'Milliseconds', 'reports'],
    ]);
  });
});
