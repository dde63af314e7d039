/** The run's table, its ratios against the targets of issue 5, and the markdown for docs/BENCHMARKS.md. */
import { formatSize } from './lib.js';
import type { Measurement, Scenario } from './cases/common.js';

const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);

const LABEL: Record<Scenario, string> = {
  raw: 'raw amqplib',
  durable: 'raw + durable work',
  filepeer: 'filepeer file→dir',
  nanite: 'Nanite-style JSON+base64',
  nats: 'NATS Object Store put+get',
  's3-direct': 'S3 direct lib-storage Upload',
  'filepeer-s3': 'filepeer S3→broker→S3',
  fanout: 'filepeer fan-out',
  'small-files': 'filepeer small files',
};

function markdownTable(head: string[], rows: string[][], leftColumns: number): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < leftColumns ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** One row per measurement, in the order they ran. */
export function resultsTable(results: Measurement[]): string {
  const head = ['case', 'size', 'chunk', 'MB/s', 'files/s', 'seconds', 'CPU s/GiB', 'broker CPU s / writes MiB', 'peak RSS MiB (CPU s) per process'];
  const rows = results.map((m) => [
    m.scenario === 'fanout' ? `${LABEL.fanout} ×${m.groups}` : LABEL[m.scenario],
    m.scenario === 'small-files' ? `${m.detail['files']} × ${formatSize(m.size)}` : formatSize(m.size),
    m.chunk === undefined ? '-' : formatSize(m.chunk),
    m.scenario === 'fanout' ? `${f1(m.mbps)} min/group` : m.scenario === 'nats' ? `${f1(m.mbps)} (put ${f1(m.detail['putMBps']!)}, get ${f1(m.detail['getMBps']!)})` : f1(m.mbps),
    m.filesPerSecond === undefined ? '-' : f1(m.filesPerSecond),
    f2(m.seconds),
    f1(m.cpuPerGiB),
    m.brokerCpuS === undefined ? '-' : `${f1(m.brokerCpuS)} / ${(m.brokerWriteMiB ?? NaN).toFixed(0)}`,
    m.procs.map((p) => `${p.role} ${f1(p.rssMiB)} (${f1(p.cpuS)})`).join(', '),
  ]);
  return markdownTable(head, rows, 3);
}

export interface Verdict {
  what: string;
  value: string;
  target: string;
  pass: boolean | undefined;
}

const find = (rs: Measurement[], scenario: Scenario, size: number, chunk?: number, groups = 1): Measurement | undefined =>
  rs.find((m) => m.scenario === scenario && m.size === size && m.groups === groups && (chunk === undefined || m.chunk === chunk));

/** The ratios issue 5 sets targets for, from this run's measurements only. */
export function verdicts(rs: Measurement[], defaultChunk: number, sizes: number[]): Verdict[] {
  const out: Verdict[] = [];
  const ratio = (what: string, a: number | undefined, b: number | undefined, min: number, unit = '×'): void => {
    if (a === undefined || b === undefined) return;
    const r = a / b;
    out.push({ what, value: `${f2(r)}${unit}`, target: `≥ ${min}${unit}`, pass: r >= min });
  };
  const K16 = 16 * 1024;
  for (const size of sizes) {
    const s = formatSize(size);
    const fp = find(rs, 'filepeer', size, defaultChunk);
    ratio(`${s}: filepeer / raw amqplib at the default chunk (${formatSize(defaultChunk)})`, fp?.mbps, find(rs, 'raw', size, defaultChunk)?.mbps, 0.9);
    ratio(`${s}: filepeer / raw amqplib at 16 KiB`, find(rs, 'filepeer', size, K16)?.mbps, find(rs, 'raw', size, K16)?.mbps, 0.8);
    ratio(`${s}: NATS put+get time / filepeer time (to a verified copy)`, find(rs, 'nats', size)?.seconds, fp?.seconds, 3);
    ratio(`${s}: filepeer (default chunk) / Nanite-style 16 KiB JSON+base64`, fp?.mbps, find(rs, 'nanite', size)?.mbps, 5);
    ratio(`${s}: filepeer S3→broker→S3 / direct lib-storage upload`, find(rs, 'filepeer-s3', size)?.mbps, find(rs, 's3-direct', size)?.mbps, 0.8);
    for (const m of rs.filter((x) => x.scenario === 'fanout' && x.size === size)) {
      ratio(`${s}: fan-out to ${m.groups} groups, slowest group / one group`, m.mbps, fp?.mbps, 0.6);
    }
  }
  for (const m of rs.filter((x) => x.scenario === 'small-files')) {
    out.push({ what: `${m.detail['files']} files of ${formatSize(m.size)}, end to end`, value: `${f1(m.filesPerSecond!)} files/s`, target: '≥ 300 files/s', pass: m.filesPerSecond! >= 300 });
  }
  const core = rs.filter((m) => m.scenario === 'filepeer' && m.chunk === defaultChunk).sort((a, b) => a.size - b.size);
  if (core.length > 0) {
    const peak = Math.max(...core.flatMap((m) => m.procs.map((p) => p.rssMiB)));
    out.push({ what: `filepeer peak RSS, sender and receiver, default chunk, all sizes`, value: `${f1(peak)} MiB`, target: '< 200 MiB', pass: peak < 200 });
  }
  if (core.length > 1) {
    const a = core[0]!;
    const b = core[core.length - 1]!;
    for (const role of ['fp-sender', 'fp-receiver']) {
      const ra = a.procs.find((p) => p.role === role)?.rssMiB;
      const rb = b.procs.find((p) => p.role === role)?.rssMiB;
      if (ra === undefined || rb === undefined) continue;
      const d = rb / ra - 1;
      out.push({ what: `${role} peak RSS ${formatSize(b.size)} vs ${formatSize(a.size)}`, value: `${f1(rb)} vs ${f1(ra)} MiB (${d >= 0 ? '+' : ''}${(d * 100).toFixed(0)}%)`, target: 'within 20%', pass: Math.abs(d) <= 0.2 });
    }
  }
  return out;
}

export function verdictTable(vs: Verdict[]): string {
  return markdownTable(
    ['ratio', 'measured', 'target', ''],
    vs.map((v) => [v.what, v.value, v.target, v.pass === undefined ? '' : v.pass ? 'PASS' : 'SHORT']),
    1,
  );
}
