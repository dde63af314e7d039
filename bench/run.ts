/**
 * `npm run bench`: filepeer (file → broker → directory) against raw amqplib moving the same bytes
 * at the same chunk size, side by side in one run, with the peak RSS of every role.
 *
 * Each role runs in its own child process (bench/raw-publisher.ts, bench/raw-consumer.ts,
 * bench/fp-sender.ts, bench/fp-receiver.ts); each prints JSON lines on stdout ('ready' when it is
 * subscribed, 'result' at the end with its timestamps and process.resourceUsage().maxRSS).
 *
 * Options (flag, or environment variable):
 *   --sizes 64MiB,1GiB                  BENCH_SIZES    file sizes
 *   --chunks 16KiB,256KiB,1MiB,4MiB     BENCH_CHUNKS   chunk sizes
 *   --modes raw,durable,filepeer        BENCH_MODES    what to run (durable: see below)
 *   --url amqp://…                      FILEPEER_AMQP_URL / AMQP_URL
 *   --tmp DIR                           BENCH_TMP      where test and received files go (default: os.tmpdir())
 *   --repeat 1                          BENCH_REPEAT   runs per case (table: median MB/s, highest RSS)
 *   --pause-ms 2000                     BENCH_PAUSE_MS pause between cases (broker settles)
 *   --timeout-s N                                      per case (default 120 s + 1 s per 2 MB)
 *   --cpu-prof DIR                      BENCH_CPU_PROF run children with --cpu-prof into DIR
 *   --node-args "--trace-gc …"          BENCH_NODE_ARGS extra node options for the children
 *   --sync-bytes N / --read-ahead-bytes N              receiver tuning (default: the library's)
 *   --json FILE                         BENCH_JSON     also write every measurement as JSON
 *
 * Per case, stderr also gets each role's CPU seconds and, when RabbitMQ runs on this machine, the
 * broker's CPU seconds and disk writes over the case (from /proc), and the load average.
 *
 * "durable" (raw+durable) is raw amqplib doing the work filepeer's contract requires and nothing
 * else: SHA-256 on both sides, the consumer appending each message to a file, fsyncing every
 * syncBytes (8 MiB) and acking only fsynced messages, with filepeer's receiver prefetch. It tells
 * the cost of the contract apart from the cost of filepeer's code.
 *
 * Throughput: raw = bytes / (first publish → last message acked);
 * filepeer = bytes / (just before broadcastFile → receiver's callback for the verified file).
 * MB/s is 10^6 bytes per second; RSS is in MiB.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomFillSync, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as amqp from 'amqplib';
import { deadLetterQueueName, groupQueueName } from '../shared/broker/topology.js';
import { Defaults } from '../shared/config/defaults.js';
import { amqpUrlFromEnv, redactUrl } from '../shared/config/env.js';
import { MAX_CHUNK_SIZE } from '../shared/protocol/constants.js';
import { MiB, formatSize, parseFlags, parseSize, rawPrefetchFor, type ChildReport } from './lib.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..');

const flags = parseFlags(process.argv.slice(2));
const KNOWN = ['sizes', 'chunks', 'modes', 'url', 'tmp', 'repeat', 'pause-ms', 'timeout-s', 'cpu-prof', 'node-args', 'sync-bytes', 'read-ahead-bytes', 'json', 'help'];
for (const name of flags.keys()) {
  if (!KNOWN.includes(name)) throw new Error(`unknown option --${name} (known: ${KNOWN.map((k) => `--${k}`).join(' ')})`);
}
if (flags.has('help')) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  process.stdout.write(`${/\/\*\*([\s\S]*?)\*\//.exec(text)?.[1]?.replace(/^ \* ?/gm, '') ?? ''}\n`);
  process.exit(0);
}
const opt = (flag: string, env: string): string | undefined => flags.get(flag) ?? process.env[env];
const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

const sizes = list(opt('sizes', 'BENCH_SIZES') ?? '64MiB,1GiB').map(parseSize);
const chunks = list(opt('chunks', 'BENCH_CHUNKS') ?? '16KiB,256KiB,1MiB,4MiB').map(parseSize);
const ALL_MODES = ['raw', 'durable', 'filepeer'] as const;
const modes = new Set(list(opt('modes', 'BENCH_MODES') ?? ALL_MODES.join(',')));
for (const m of modes) if (!(ALL_MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m} (${ALL_MODES.join(', ')})`);
for (const c of chunks) if (c > MAX_CHUNK_SIZE) throw new Error(`chunk ${formatSize(c)} exceeds filepeer's maximum ${formatSize(MAX_CHUNK_SIZE)}`);
const url = flags.get('url') ?? amqpUrlFromEnv();
const tmpBase = opt('tmp', 'BENCH_TMP') ?? tmpdir();
const repeat = Math.max(1, Number(opt('repeat', 'BENCH_REPEAT') ?? 1));
const pauseMs = Number(opt('pause-ms', 'BENCH_PAUSE_MS') ?? 2000);
const timeoutS = flags.get('timeout-s');
const cpuProfDir = opt('cpu-prof', 'BENCH_CPU_PROF');
const jsonOut = opt('json', 'BENCH_JSON');
const extraNodeArgs = (opt('node-args', 'BENCH_NODE_ARGS') ?? '').split(/\s+/).filter((a) => a.length > 0);
const receiverTuning: string[] = [];
for (const knob of ['sync-bytes', 'read-ahead-bytes']) {
  const v = flags.get(knob);
  if (v !== undefined) receiverTuning.push(`--${knob}`, String(parseSize(v)));
}
const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  role: string;
  proc: ChildProcess;
  /** Resolves with the first report of this kind (rejects if the child exits first). */
  next(event: ChildReport['event']): Promise<ChildReport>;
  exited: Promise<number | null>;
  kill(): void;
}

function spawnRole(role: string, script: string, args: string[], tag: string): Child {
  const nodeArgs = ['--import', 'tsx', ...extraNodeArgs];
  if (cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${tag}-${role}.cpuprofile`);
  const proc = spawn(process.execPath, [...nodeArgs, join(benchDir, script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, FILEPEER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reports: ChildReport[] = [];
  const waiters: Array<() => void> = [];
  let exitCode: number | null | undefined;
  const wakeAll = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      reports.push(JSON.parse(line) as ChildReport);
    } catch {
      process.stderr.write(`[${role}] ${line}\n`);
    }
    wakeAll();
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => process.stderr.write(`[${role}] ${line}\n`));
  const exited = new Promise<number | null>((res) => {
    proc.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      wakeAll();
      res(exitCode);
    });
  });
  const next = async (event: ChildReport['event']): Promise<ChildReport> => {
    for (;;) {
      const found = reports.find((r) => r.event === event);
      if (found) return found;
      if (exitCode !== undefined) throw new Error(`${role} exited (code ${String(exitCode)}) before reporting '${event}'`);
      await new Promise<void>((res) => waiters.push(res));
    }
  };
  return {
    role,
    proc,
    next,
    exited,
    kill: () => {
      if (exitCode === undefined && proc.pid !== undefined) proc.kill('SIGKILL');
    },
  };
}

async function withTimeout<T>(what: string, ms: number, work: Promise<T>, children: Child[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    for (const c of children) c.kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Test files: random content, written 1 MiB at a time, never held whole in memory.

interface TestFile {
  size: number;
  path: string;
  sha256: string;
}

function generateFile(dir: string, size: number): TestFile {
  const path = join(dir, `input-${formatSize(size)}.bin`);
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(MiB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(block.length, size - written);
      const piece = block.subarray(0, n);
      randomFillSync(piece); // fresh random bytes for every block
      hash.update(piece);
      for (let off = 0; off < n; ) off += writeSync(fd, piece, off, n - off);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, path, sha256: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// The broker's own cost, when it runs on this machine: CPU seconds and bytes written to disk by
// the RabbitMQ VM (beam.smp) over a case, from /proc. Other users of the broker count too.

interface BrokerSample {
  cpuS: number;
  writeBytes: number;
}

function findBrokerPid(): number | undefined {
  if (process.platform !== 'linux' || !/^amqps?:\/\/([^@/]*@)?(127\.0\.0\.1|localhost)(:|\/|$)/.test(url)) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      // The server itself (`-s rabbit boot`), not a passing rabbitmqctl, which is a beam.smp too.
      if (cmd.includes('beam.smp') && cmd.includes('\0rabbit\0boot')) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

const brokerPid = findBrokerPid();

function sampleBroker(): BrokerSample | undefined {
  if (brokerPid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${brokerPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
    const io = readFileSync(`/proc/${brokerPid}/io`, 'utf8');
    const writeBytes = Number(/^write_bytes:\s*(\d+)/m.exec(io)?.[1] ?? NaN);
    return { cpuS: ticks / 100, writeBytes };
  } catch {
    return undefined;
  }
}

function brokerDelta(before: BrokerSample | undefined): { brokerCpuS?: number; brokerWriteMiB?: number } {
  const after = sampleBroker();
  if (!before || !after) return {};
  return { brokerCpuS: after.cpuS - before.cpuS, brokerWriteMiB: (after.writeBytes - before.writeBytes) / MiB };
}

const brokerText = (r: { brokerCpuS?: number; brokerWriteMiB?: number }): string =>
  r.brokerCpuS === undefined ? '' : `, broker CPU ${r.brokerCpuS.toFixed(1)} s / disk writes ${r.brokerWriteMiB!.toFixed(0)} MiB`;

// ---------------------------------------------------------------------------------------------
// Cases

interface RawResult {
  mbps: number;
  seconds: number;
  publisherRssMiB: number;
  consumerRssMiB: number;
  /** CPU seconds (user + system, startup included) of each child. */
  publisherCpuS: number;
  consumerCpuS: number;
  prefetch: number;
  brokerCpuS?: number;
  brokerWriteMiB?: number;
}

interface FilepeerResult {
  mbps: number;
  seconds: number;
  senderRssMiB: number;
  receiverRssMiB: number;
  senderCpuS: number;
  receiverCpuS: number;
  /** Sender's broadcastFile resolved (all confirmed), seconds after it started. */
  senderSeconds: number;
  brokerCpuS?: number;
  brokerWriteMiB?: number;
}

interface CaseResult {
  size: number;
  chunk: number;
  /** One entry per repetition that succeeded. */
  raw: RawResult[];
  durable: RawResult[];
  filepeer: FilepeerResult[];
  errors: string[];
}

const num = (r: ChildReport, key: string): number => {
  const v = r[key];
  if (typeof v !== 'number') throw new Error(`${r.role} reported no numeric ${key}`);
  return v;
};
const rssMiB = (r: ChildReport): number => num(r, 'maxRssKiB') / 1024;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

function caseTimeoutMs(size: number): number {
  if (timeoutS !== undefined) return Number(timeoutS) * 1000;
  return 120_000 + (size / 2e6) * 1000;
}

/** One queue operation on a channel of its own: a 404 closes that channel, never the run. */
async function adminOp<T>(admin: amqp.ChannelModel, op: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const ch = await admin.createChannel();
  ch.on('error', () => undefined);
  try {
    return await op(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

async function runRaw(admin: amqp.ChannelModel, file: TestFile, chunk: number, tag: string, durable: boolean, tmp: string): Promise<RawResult> {
  const queue = `filepeer-bench.raw.${tag}`;
  const syncBytes = Defaults.syncBytes;
  // Durable mode holds a sync's worth of messages unacked: it needs filepeer's receiver prefetch
  // (held chunks plus the read-ahead), or the broker would stop delivering before an fsync is due.
  const prefetch = durable
    ? Math.ceil(syncBytes / chunk) + rawPrefetchFor(chunk, Defaults.readAheadBytes)
    : rawPrefetchFor(chunk, Defaults.readAheadBytes);
  const durableFile = join(tmp, `raw-durable-${tag}.bin`);
  const children: Child[] = [];
  const broker = sampleBroker();
  try {
    const consumerArgs = ['--url', url, '--queue', queue, '--bytes', String(file.size), '--prefetch', String(prefetch)];
    if (durable) consumerArgs.push('--durable-file', durableFile, '--sync-bytes', String(syncBytes));
    const consumer = spawnRole(durable ? 'durable-consumer' : 'raw-consumer', 'raw-consumer.ts', consumerArgs, tag);
    children.push(consumer);
    return await withTimeout(`raw ${tag}`, caseTimeoutMs(file.size), (async () => {
      await consumer.next('ready');
      const publisherArgs = ['--url', url, '--queue', queue, '--file', file.path, '--chunk', String(chunk)];
      if (durable) publisherArgs.push('--hash');
      const publisher = spawnRole(durable ? 'durable-publisher' : 'raw-publisher', 'raw-publisher.ts', publisherArgs, tag);
      children.push(publisher);
      const [pub, con] = await Promise.all([publisher.next('result'), consumer.next('result')]);
      const codes = await Promise.all([publisher.exited, consumer.exited]);
      if (codes.some((c) => c !== 0)) throw new Error(`raw children exited with ${codes.join(', ')}`);
      if (num(pub, 'bytes') !== file.size || num(con, 'bytes') !== file.size) {
        throw new Error(`raw moved ${num(pub, 'bytes')} / ${num(con, 'bytes')} bytes, expected ${file.size}`);
      }
      if (durable && (pub['sha256'] !== file.sha256 || con['sha256'] !== file.sha256)) {
        throw new Error(`raw+durable digests ${String(pub['sha256'])} / ${String(con['sha256'])}, expected ${file.sha256}`);
      }
      const ms = num(con, 'lastAckAt') - num(pub, 'firstPublishAt');
      return {
        mbps: mbps(file.size, ms),
        seconds: ms / 1000,
        publisherRssMiB: rssMiB(pub),
        consumerRssMiB: rssMiB(con),
        publisherCpuS: num(pub, 'cpuSeconds'),
        consumerCpuS: num(con, 'cpuSeconds'),
        prefetch,
        ...brokerDelta(broker),
      };
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await adminOp(admin, (ch) => ch.deleteQueue(queue)).catch((err: unknown) => log(`could not delete ${queue}: ${String(err)}`));
    await rm(durableFile, { force: true });
  }
}

async function runFilepeer(admin: amqp.ChannelModel, file: TestFile, chunk: number, tag: string, tmp: string): Promise<FilepeerResult> {
  const domain = `bench-${tag}`;
  const group = `bench-${tag}`;
  // The names the library declares (reported by the receiver once subscribed); these are the
  // library's own spellings, used until the receiver reports, e.g. when it fails before that.
  let queue = groupQueueName(group, domain);
  let deadLetterQueue = deadLetterQueueName(group);
  const root = join(tmp, `received-${tag}`);
  await mkdir(root, { recursive: true });
  const children: Child[] = [];
  const broker = sampleBroker();
  try {
    const receiver = spawnRole('fp-receiver', 'fp-receiver.ts', ['--url', url, '--domain', domain, '--group', group, '--root', root, ...receiverTuning], tag);
    children.push(receiver);
    return await withTimeout(`filepeer ${tag}`, caseTimeoutMs(file.size), (async () => {
      const ready = await receiver.next('ready');
      if (typeof ready['queue'] === 'string') queue = ready['queue'];
      if (typeof ready['deadLetterQueue'] === 'string') deadLetterQueue = ready['deadLetterQueue'];
      const sender = spawnRole('fp-sender', 'fp-sender.ts', ['--url', url, '--domain', domain, '--file', file.path, '--chunk', String(chunk)], tag);
      children.push(sender);
      const [snd, rcv] = await Promise.all([sender.next('result'), receiver.next('result')]);
      const codes = await Promise.all([sender.exited, receiver.exited]);
      if (codes.some((c) => c !== 0)) throw new Error(`filepeer children exited with ${codes.join(', ')}`);
      if (num(rcv, 'bytes') !== file.size || rcv['sha256'] !== file.sha256 || snd['sha256'] !== file.sha256) {
        throw new Error(`filepeer delivered ${num(rcv, 'bytes')} bytes sha256 ${String(rcv['sha256'])}, expected ${file.size} ${file.sha256}`);
      }
      const ms = num(rcv, 'callbackAt') - num(snd, 'startedAt');
      return {
        mbps: mbps(file.size, ms),
        seconds: ms / 1000,
        senderRssMiB: rssMiB(snd),
        receiverRssMiB: rssMiB(rcv),
        senderCpuS: num(snd, 'cpuSeconds'),
        receiverCpuS: num(rcv, 'cpuSeconds'),
        senderSeconds: (num(snd, 'confirmedAt') - num(snd, 'startedAt')) / 1000,
        ...brokerDelta(broker),
      };
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await rm(root, { recursive: true, force: true });
    const dl = await adminOp(admin, (ch) => ch.checkQueue(deadLetterQueue)).catch(() => undefined);
    if (dl && dl.messageCount > 0) log(`warning: ${dl.messageCount} packet(s) dead-lettered in ${deadLetterQueue}`);
    for (const q of [queue, deadLetterQueue]) {
      await adminOp(admin, (ch) => ch.deleteQueue(q)).catch((err: unknown) => log(`could not delete ${q}: ${String(err)}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const f1 = (n: number): string => n.toFixed(1);
const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
};

/** What the table shows for one case: median throughput, highest peak RSS over the repetitions. */
interface Summary {
  rawMbps?: number;
  rawRange?: [number, number];
  fpMbps?: number;
  fpRange?: [number, number];
  fpSenderRss?: number;
  fpReceiverRss?: number;
  rawPublisherRss?: number;
  rawConsumerRss?: number;
  durMbps?: number;
  durRange?: [number, number];
}

function summarize(r: CaseResult): Summary {
  const s: Summary = {};
  if (r.raw.length > 0) {
    const m = r.raw.map((x) => x.mbps);
    s.rawMbps = median(m);
    s.rawRange = [Math.min(...m), Math.max(...m)];
    s.rawPublisherRss = Math.max(...r.raw.map((x) => x.publisherRssMiB));
    s.rawConsumerRss = Math.max(...r.raw.map((x) => x.consumerRssMiB));
  }
  if (r.durable.length > 0) {
    const m = r.durable.map((x) => x.mbps);
    s.durMbps = median(m);
    s.durRange = [Math.min(...m), Math.max(...m)];
  }
  if (r.filepeer.length > 0) {
    const m = r.filepeer.map((x) => x.mbps);
    s.fpMbps = median(m);
    s.fpRange = [Math.min(...m), Math.max(...m)];
    s.fpSenderRss = Math.max(...r.filepeer.map((x) => x.senderRssMiB));
    s.fpReceiverRss = Math.max(...r.filepeer.map((x) => x.receiverRssMiB));
  }
  return s;
}

function table(results: CaseResult[]): string {
  const withDurable = modes.has('durable');
  const head = ['size', 'chunk', 'raw MB/s', ...(withDurable ? ['raw+durable MB/s'] : []), 'filepeer MB/s', 'ratio'];
  if (withDurable) head.push('vs durable');
  head.push('filepeer RSS send/recv (MiB)', 'raw RSS pub/cons (MiB)');
  const speed = (v: number | undefined, range: [number, number] | undefined, ran: boolean, failed: boolean): string => {
    if (v === undefined) return failed && ran ? 'failed' : '-';
    return repeat > 1 && range ? `${f1(v)} (${f1(range[0])}-${f1(range[1])})` : f1(v);
  };
  const rows = results.map((r) => {
    const s = summarize(r);
    const failed = r.errors.length > 0;
    const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? (a / b).toFixed(2) : '-');
    return [
      formatSize(r.size),
      formatSize(r.chunk),
      speed(s.rawMbps, s.rawRange, modes.has('raw'), failed),
      ...(withDurable ? [speed(s.durMbps, s.durRange, true, failed)] : []),
      speed(s.fpMbps, s.fpRange, modes.has('filepeer'), failed),
      ratio(s.fpMbps, s.rawMbps),
      ...(withDurable ? [ratio(s.fpMbps, s.durMbps)] : []),
      s.fpSenderRss !== undefined ? `${f1(s.fpSenderRss)} / ${f1(s.fpReceiverRss!)}` : '-',
      s.rawPublisherRss !== undefined ? `${f1(s.rawPublisherRss)} / ${f1(s.rawConsumerRss!)}` : '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function targets(results: CaseResult[]): string[] {
  const out: string[] = [];
  for (const r of results.filter((x) => x.chunk === MiB)) {
    const s = summarize(r);
    if (s.rawMbps !== undefined && s.fpMbps !== undefined) {
      const ratio = s.fpMbps / s.rawMbps;
      out.push(`filepeer/raw at 1MiB chunks, ${formatSize(r.size)}: ${ratio.toFixed(2)} (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
    }
    if (s.durMbps !== undefined && s.fpMbps !== undefined) {
      out.push(`filepeer/raw+durable at 1MiB chunks, ${formatSize(r.size)}: ${(s.fpMbps / s.durMbps).toFixed(2)} (no target: the cost of filepeer's code beyond its contract)`);
    }
  }
  const fps = results.flatMap((r) => r.filepeer);
  if (fps.length > 0) {
    const peak = Math.max(...fps.map((x) => Math.max(x.senderRssMiB, x.receiverRssMiB)));
    out.push(`filepeer peak RSS over all cases: ${f1(peak)} MiB (target < 200 MiB: ${peak < 200 ? 'met' : 'NOT met'})`);
  }
  const small = Math.min(...sizes);
  const large = Math.max(...sizes);
  if (large > small) {
    for (const chunk of chunks) {
      const a = results.find((r) => r.size === small && r.chunk === chunk);
      const b = results.find((r) => r.size === large && r.chunk === chunk);
      if (!a || !b || a.filepeer.length === 0 || b.filepeer.length === 0) continue;
      const sa = summarize(a);
      const sb = summarize(b);
      const ds = sb.fpSenderRss! / sa.fpSenderRss! - 1;
      const dr = sb.fpReceiverRss! / sa.fpReceiverRss! - 1;
      const flat = Math.abs(ds) <= 0.2 && Math.abs(dr) <= 0.2;
      const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
      out.push(
        `filepeer RSS ${formatSize(large)} vs ${formatSize(small)} at ${formatSize(chunk)}: sender ${pct(ds)}, receiver ${pct(dr)} (target within 20%: ${flat ? 'met' : 'NOT met'})`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main

/** Which library was measured: the commit, and the files of shared/ that differ from it. */
function libraryVersion(): string {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trimEnd() : undefined;
  };
  // The last commit that changed what the benchmark runs (commits to tests or docs do not count).
  const head = git('log', '-1', '--format=%h', '--', 'shared', 'bench', 'package-lock.json');
  if (!head) return 'library version unknown (not a git checkout)';
  const dirty = (git('status', '--porcelain', '--', 'shared') ?? '').split('\n').filter((l) => l.length > 0);
  return `library at ${head}${dirty.length > 0 ? ` + uncommitted changes in shared/: ${dirty.map((l) => l.slice(3)).join(', ')}` : ''}`;
}

const versionAtStart = libraryVersion();
const tmp = await mkdtemp(join(tmpBase, 'filepeer-bench-'));
if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
let admin: amqp.ChannelModel | undefined;
const cleanup = async (): Promise<void> => {
  await rm(tmp, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  void cleanup().finally(() => process.exit(130));
});

const results: CaseResult[] = [];
const startedAt = Date.now();
const loadAtStart = loadavg();
try {
  admin = await amqp.connect(url).catch((cause: unknown) => {
    throw new Error(`cannot reach the broker at ${redactUrl(url)} (is RabbitMQ running? rabbitmq-server -detached)`, { cause });
  });
  admin.on('error', (err: Error) => log(`broker connection error: ${err.message}`));
  log(`run ${runId}: ${versionAtStart}; repeat ${repeat}, sizes ${sizes.map(formatSize).join(',')}, chunks ${chunks.map(formatSize).join(',')}, modes ${[...modes].join(',')}, tmp ${tmp}`);
  for (const size of sizes) {
    const t0 = Date.now();
    const file = generateFile(tmp, size);
    log(`generated ${formatSize(size)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    try {
      const cases = chunks.map((chunk): CaseResult => ({ size, chunk, raw: [], durable: [], filepeer: [], errors: [] }));
      results.push(...cases);
      for (let rep = 1; rep <= repeat; rep++) {
        for (const result of cases) {
          const { chunk } = result;
          const tag = `${runId}-${formatSize(size)}-${formatSize(chunk)}-${rep}`.toLowerCase();
          const what = `${formatSize(size)} @ ${formatSize(chunk)}${repeat > 1 ? ` #${rep}` : ''}`;
          for (const mode of ALL_MODES) {
            if (!modes.has(mode)) continue;
            await new Promise((r) => setTimeout(r, pauseMs));
            try {
              if (mode === 'raw' || mode === 'durable') {
                const r = await runRaw(admin, file, chunk, `${tag}-${mode}`, mode === 'durable', tmp);
                result[mode].push(r);
                log(`${what} ${mode === 'raw' ? 'raw' : 'raw+durable'}: ${f1(r.mbps)} MB/s (${r.seconds.toFixed(2)} s, prefetch ${r.prefetch}), RSS pub ${f1(r.publisherRssMiB)} / cons ${f1(r.consumerRssMiB)} MiB, CPU pub ${f1(r.publisherCpuS)} / cons ${f1(r.consumerCpuS)} s${brokerText(r)}, load ${loadavg()[0]!.toFixed(1)}`);
              } else {
                const r = await runFilepeer(admin, file, chunk, `${tag}-fp`, tmp);
                result.filepeer.push(r);
                log(`${what} filepeer: ${f1(r.mbps)} MB/s (${r.seconds.toFixed(2)} s; sender confirmed after ${r.senderSeconds.toFixed(2)} s), RSS send ${f1(r.senderRssMiB)} / recv ${f1(r.receiverRssMiB)} MiB, CPU send ${f1(r.senderCpuS)} / recv ${f1(r.receiverCpuS)} s${brokerText(r)}, load ${loadavg()[0]!.toFixed(1)}`);
              }
            } catch (err) {
              const message = err instanceof Error ? err.message : String(err);
              result.errors.push(`${mode} #${rep}: ${message}`);
              log(`${what} ${mode} FAILED: ${message}`);
            }
          }
        }
      }
    } finally {
      await rm(file.path, { force: true });
    }
  }
} finally {
  await admin?.close().catch(() => undefined);
  await cleanup();
}

const elapsed = (Date.now() - startedAt) / 1000;
process.stdout.write(`\n${table(results)}\n\n`);
for (const line of targets(results)) process.stdout.write(`${line}\n`);
const versionAtEnd = libraryVersion();
const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
process.stdout.write(
  `\n(total ${elapsed.toFixed(0)} s; ${repeat > 1 ? `${repeat} runs per case, median MB/s (min-max), highest RSS; ` : ''}MB/s = 10^6 bytes/s; RSS = peak resident set, MiB; load average at start ${loads(loadAtStart)}, at end ${loads(loadavg())}; ${versionAtEnd === versionAtStart ? versionAtStart : `${versionAtStart} at start, ${versionAtEnd} at end: the library changed during the run`})\n`,
);
if (jsonOut) {
  await writeFile(jsonOut, `${JSON.stringify({ runId, url: redactUrl(url), sizes, chunks, repeat, elapsedSeconds: elapsed, loadAtStart, loadAtEnd: loadavg(), results }, null, 2)}\n`);
  log(`wrote ${jsonOut}`);
}
if (results.some((r) => r.errors.length > 0)) process.exitCode = 1;
