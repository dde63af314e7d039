/**
 * The fault suite's table, from the tallies its tests recorded (ledger.ts):
 *   node --import tsx test/faults/report.ts            print it
 *   node --import tsx test/faults/report.ts --reset    empty the ledger (before a run)
 *   node --import tsx test/faults/report.ts --write F  also replace the table in F between its markers
 * `npm run test:faults` resets, runs test/faults/*.test.ts, then prints.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { ledgerPath, type ScenarioTally } from './ledger.js';

const BEGIN = '<!-- faults:begin -->';
const END = '<!-- faults:end -->';

const COLUMNS = [
  ['filesSent', 'files sent'],
  ['filesVerified', 'delivered verified'],
  ['filesLost', 'lost'],
  ['duplicateHandlerCalls', 'duplicate handler calls'],
  ['badInputsTried', 'bad inputs tried'],
  ['badInputsRefused', 'refused'],
] as const;

type Count = (typeof COLUMNS)[number][0];

async function readTallies(): Promise<ScenarioTally[]> {
  const text = await readFile(ledgerPath(), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ScenarioTally);
}

/** A scenario run twice (a rerun, a second sink) is summed: the table counts what was done. */
function merge(tallies: readonly ScenarioTally[]): ScenarioTally[] {
  const byScenario = new Map<string, ScenarioTally>();
  for (const t of tallies) {
    const seen = byScenario.get(t.scenario);
    if (!seen) {
      byScenario.set(t.scenario, { ...t });
      continue;
    }
    for (const [key] of COLUMNS) seen[key] += t[key];
  }
  const order = ['crash', 'broker', 'duplicates', 'abandoned', 'bad-input', 'security'];
  return [...byScenario.values()].sort((a, b) => order.indexOf(a.area) - order.indexOf(b.area));
}

function table(rows: readonly ScenarioTally[]): string {
  const total = (key: Count): number => rows.reduce((n, r) => n + r[key], 0);
  const header = `| area | scenario | ${COLUMNS.map(([, title]) => title).join(' | ')} |`;
  const rule = `| --- | --- | ${COLUMNS.map(() => '---:').join(' | ')} |`;
  const lines = rows.map((r) => `| ${r.area} | ${r.scenario.replace(/\|/g, '\\|')} | ${COLUMNS.map(([key]) => r[key]).join(' | ')} |`);
  const sum = `| **all** | **${rows.length} scenarios** | ${COLUMNS.map(([key]) => `**${total(key)}**`).join(' | ')} |`;
  return [header, rule, ...lines, sum].join('\n');
}

function verdict(rows: readonly ScenarioTally[]): string {
  const lost = rows.reduce((n, r) => n + r.filesLost, 0);
  const dup = rows.reduce((n, r) => n + r.duplicateHandlerCalls, 0);
  const unrefused = rows.reduce((n, r) => n + r.badInputsTried - r.badInputsRefused, 0);
  const ok = lost === 0 && dup === 0 && unrefused === 0;
  return `${ok ? 'PASS' : 'FAIL'}: ${lost} files lost, ${dup} duplicate handler calls, ${unrefused} bad inputs not refused.`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--reset')) {
    await rm(ledgerPath(), { force: true });
    return;
  }
  const rows = merge(await readTallies());
  if (rows.length === 0) {
    console.log(`no tallies in ${ledgerPath()}: run the fault suite first (npm run test:faults)`);
    process.exitCode = 1;
    return;
  }
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const body = `${table(rows)}\n\n${verdict(rows)} Run ${new Date().toISOString().slice(0, 10)} on ${machine}.`;
  console.log(body);
  const at = args.indexOf('--write');
  if (at >= 0) {
    const file = args[at + 1];
    if (!file) throw new Error('--write needs a file');
    const doc = await readFile(file, 'utf8');
    const from = doc.indexOf(BEGIN);
    const to = doc.indexOf(END);
    if (from < 0 || to < from) throw new Error(`${file} has no ${BEGIN} … ${END} markers`);
    await writeFile(file, `${doc.slice(0, from + BEGIN.length)}\n${body}\n${doc.slice(to)}`);
    console.log(`\nwritten to ${file}`);
  }
}

await main();
