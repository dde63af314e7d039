/**
 * docs/BENCHMARKS.md: the harness rewrites the part between the two markers below with the
 * command, the machine, the table and the ratios of the run; the rest of the file (the reading of
 * the figures, written by people) is left as it is.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Machine } from './machine.js';

export const BEGIN = '<!-- bench:begin (written by npm run bench; edits here are overwritten) -->';
export const END = '<!-- bench:end -->';

export interface RunRecord {
  command: string;
  date: string;
  seconds: number;
  library: string;
  machine: Machine;
  loadAtStart: string;
  loadAtEnd: string;
  loadRange: string;
  table: string;
  verdicts: string;
  notes: string[];
}

export function renderRun(r: RunRecord): string {
  const m = r.machine;
  return [
    BEGIN,
    '',
    `Command: \`${r.command}\` — ${r.date}, ${Math.round(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s, ${r.library}.`,
    '',
    `Machine: ${m.cpus}; ${m.memory} RAM; ${m.kernel}; disk ${m.disk}; Node ${m.node}; ${m.rabbitmq}; ${m.natsServer}; ${m.packages}.`,
    `Load average (1, 5, 15 min): ${r.loadAtStart} at the start, ${r.loadAtEnd} at the end; the 1-minute figure ranged ${r.loadRange} over the cases.`,
    '',
    r.table,
    '',
    r.verdicts,
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
    END,
  ].join('\n');
}

export async function writeRun(path: string, block: string): Promise<void> {
  const before = await readFile(path, 'utf8').catch(() => '');
  const start = before.indexOf(BEGIN);
  const end = before.indexOf(END);
  const text = start >= 0 && end > start
    ? `${before.slice(0, start)}${block}${before.slice(end + END.length)}`
    : `# Benchmarks\n\n## The last full run\n\n${block}\n\n${before.replace(/^# Benchmarks\n+/, '')}`;
  await writeFile(path, text);
}
