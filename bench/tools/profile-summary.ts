/**
 * Summarise a `.cpuprofile` (node --cpu-prof): self time by function and by category
 * (GC, SHA-256, file I/O, amqplib, filepeer, …), so profiles can be compared in text.
 *
 *   node --import tsx bench/tools/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N]');
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

/** Which part of the stack a function belongs to, by where its code lives. */
function category(n: ProfileNode): string {
  const { functionName: fn, url } = n.callFrame;
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program';
  if (/update|digest/.test(fn) && /crypto|hash/.test(url)) return 'sha256';
  if (url.includes('node_modules/amqplib')) return 'amqplib';
  if (url.includes('node_modules/')) return 'other-packages';
  if (url.includes('/shared/')) return 'filepeer';
  if (url.includes('/bench/')) return 'bench';
  if (/fs|filehandle|promises/.test(url)) return 'node-fs';
  if (url.startsWith('node:')) return 'node-internal';
  return fn.startsWith('(') ? fn : 'native';
}

const total = profile.endTime - profile.startTime;
const cats = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const c = category(n);
  cats.set(c, (cats.get(c) ?? 0) + us);
  const where = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|shared|bench)\//, '$1/');
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const s = (us: number): string => `${(us / 1e6).toFixed(2)} s`;
process.stdout.write(`${file}: ${s(total)} profiled\n`);
for (const [c, us] of [...cats].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${c.padEnd(16)} ${s(us)}\n`);
process.stdout.write('top functions (self time):\n');
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${s(us).padStart(8)}  ${k}\n`);
