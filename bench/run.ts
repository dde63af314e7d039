/**
 * `npm run bench`: see bench/options.ts (or `npm run bench -- --help`) for what runs and how.
 * This file only orders the cases, prints the table and the ratios, and records them.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as amqp from 'amqplib';
import { Defaults } from '../shared/config/defaults.js';
import { redactUrl } from '../shared/config/env.js';
import { formatSize } from './lib.js';
import { generateFile, generateSmallFiles } from './data.js';
import { parseOptions } from './options.js';
import { createLauncher, findBrokerPid } from './procs.js';
import { describeMachine, loadText } from './machine.js';
import { resultsTable, verdictTable, verdicts } from './report.js';
import { renderRun, writeRun } from './docs.js';
import type { Ctx, Measurement } from './cases/common.js';
import { runNanite, runRaw } from './cases/raw.js';
import { runFilepeer } from './cases/filepeer.js';
import { runNats, startNats, type NatsServer } from './cases/nats.js';
import { runFilepeerS3, runS3Direct, sourceKey, startS3Server, type S3Server } from './cases/s3.js';
import { runSmallFiles } from './cases/small-files.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..');
const opts = parseOptions(process.argv.slice(2));
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** Which library was measured: the last commit that changed it, and what differs from it. */
function libraryVersion(): string {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trimEnd() : undefined;
  };
  const head = git('log', '-1', '--format=%h', '--', 'shared', 'bench', 'package-lock.json');
  if (!head) return 'library version unknown (not a git checkout)';
  const dirty = (git('status', '--porcelain', '--', 'shared', 'bench') ?? '').split('\n').filter((l) => l.length > 0);
  return `library at ${head}${dirty.length > 0 ? ` + uncommitted changes (${dirty.length} files in shared/ and bench/)` : ''}`;
}

const scratch = join(repoRoot, '.bench-tmp');
await mkdir(scratch, { recursive: true });
const tmp = await mkdtemp(join(scratch, 'run-'));
process.once('SIGINT', () => {
  void rm(tmp, { recursive: true, force: true }).finally(() => process.exit(130));
});
if (opts.cpuProfDir) await mkdir(opts.cpuProfDir, { recursive: true });

const startedAt = Date.now();
const loadAtStart = loadavg();
const loads: number[] = [loadAtStart[0]!];
const results: Measurement[] = [];
const errors: string[] = [];
const notes: string[] = [];
const defaultChunk = opts.chunk ?? Defaults.chunkSize;
const library = libraryVersion();
let nats: NatsServer | undefined;
let s3: S3Server | undefined;
let admin: amqp.ChannelModel | undefined;
let brokerProduct = 'broker ?';

try {
  admin = await amqp.connect(opts.url).catch((cause: unknown) => {
    throw new Error(`cannot reach the broker at ${redactUrl(opts.url)} (is RabbitMQ running? rabbitmq-server -detached)`, { cause });
  });
  admin.on('error', (err: Error) => log(`broker connection error: ${err.message}`));
  const server = admin.connection.serverProperties;
  brokerProduct = `${String(server.product ?? 'broker')} ${String(server.version ?? '?')}`;
  log(`run ${runId}: ${library}; ${opts.quick ? 'quick' : 'full'}; sizes ${opts.sizes.map(formatSize).join(',')}; scenarios ${[...opts.groups].join(',')}; scratch ${tmp}`);
  const launcher = await createLauncher({ benchDir, repoRoot, outDir: join(tmp, 'dist'), useTsx: opts.useTsx, cpuProfDir: opts.cpuProfDir, nodeArgs: opts.nodeArgs, log });
  const ctx: Ctx = {
    url: opts.url,
    launcher,
    admin,
    tmp,
    runId,
    brokerPid: findBrokerPid(opts.url),
    log,
    timeoutMs: (bytes) => 120_000 + (bytes / 2e6) * 1000,
    receiverArgs: opts.receiverArgs,
  };

  /** Run one case after a pause; a failure is recorded and the run goes on. */
  const measure = async (what: string, work: () => Promise<Measurement>): Promise<void> => {
    await new Promise((r) => setTimeout(r, opts.pauseMs));
    try {
      const m = await work();
      results.push(m);
      loads.push(loadavg()[0]!);
      const rate = m.filesPerSecond === undefined ? `${m.mbps.toFixed(1)} MB/s` : `${m.filesPerSecond.toFixed(1)} files/s`;
      const procs = m.procs.map((p) => `${p.role} ${p.rssMiB.toFixed(1)} MiB/${p.cpuS.toFixed(1)} s`).join(', ');
      log(`${what}: ${rate} (${m.seconds.toFixed(2)} s), ${m.cpuPerGiB.toFixed(1)} CPU s/GiB, broker ${m.brokerCpuS?.toFixed(1) ?? '?'} s/${m.brokerWriteMiB?.toFixed(0) ?? '?'} MiB written; ${procs}; load ${loadavg()[0]!.toFixed(1)}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.push(`${what}: ${message}`);
      log(`${what} FAILED: ${message}`);
    }
  };

  if (opts.groups.has('nats')) {
    const started = await startNats(ctx);
    if (typeof started === 'string') {
      log(started);
      notes.push(started);
    } else {
      nats = started;
    }
  }
  if (opts.groups.has('s3')) s3 = await startS3Server(ctx);

  if (opts.groups.has('small')) {
    const files = await generateSmallFiles(join(tmp, 'small'), opts.smallFiles, opts.smallFileSize);
    await measure(`${opts.smallFiles} files of ${formatSize(opts.smallFileSize)}`, () => runSmallFiles(ctx, files, opts.smallConcurrency, `${runId}-small`));
    await rm(files.dir, { recursive: true, force: true });
  }

  const has = (g: Parameters<typeof opts.groups.has>[0], size: number, sizes: number[] | number): boolean =>
    opts.groups.has(g) && (Array.isArray(sizes) ? sizes.includes(size) : sizes === size);
  const allSizes = [...new Set([...opts.sizes, ...opts.sizes16k, opts.sweepSize, opts.durableSize, opts.fanoutSize])].sort((a, b) => a - b);
  for (const size of allSizes) {
    const wanted = has('core', size, opts.sizes) || has('nats', size, opts.sizes) || has('s3', size, opts.sizes) || has('16k', size, opts.sizes16k)
      || has('sweep', size, opts.sweepSize) || has('durable', size, opts.durableSize) || has('fanout', size, opts.fanoutSize);
    if (!wanted) continue;
    const t0 = Date.now();
    const file = generateFile(tmp, size);
    log(`generated ${formatSize(size)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const s = formatSize(size);
    const tag = (what: string): string => `${runId}-${s}-${what}`.toLowerCase();
    try {
      if (has('core', size, opts.sizes)) {
        await measure(`${s} raw @ ${formatSize(defaultChunk)}`, () => runRaw(ctx, file, defaultChunk, 'raw', tag('raw')));
        await measure(`${s} filepeer @ ${formatSize(defaultChunk)}`, () => runFilepeer(ctx, file, opts.chunk, 1, tag('fp')));
      }
      if (nats && has('nats', size, opts.sizes)) await measure(`${s} NATS put+get`, () => runNats(ctx, nats!, file, tag('nats')));
      if (s3 && has('s3', size, opts.sizes)) {
        const domain = `bench-${tag('s3')}`;
        const key = sourceKey(domain, file);
        await measure(`${s} S3 direct upload`, () => runS3Direct(ctx, s3!, file, key, tag('s3d')));
        await measure(`${s} filepeer S3→S3`, () => runFilepeerS3(ctx, s3!, file, domain, key, opts.chunk, tag('s3')));
      }
      if (has('16k', size, opts.sizes16k)) {
        const k16 = 16 * 1024;
        await measure(`${s} raw @ 16KiB`, () => runRaw(ctx, file, k16, 'raw', tag('raw16k')));
        await measure(`${s} filepeer @ 16KiB`, () => runFilepeer(ctx, file, k16, 1, tag('fp16k')));
        await measure(`${s} Nanite-style @ 16KiB`, () => runNanite(ctx, file, tag('nanite')));
      }
      if (has('sweep', size, opts.sweepSize)) {
        for (const c of opts.sweepChunks) {
          if (c === defaultChunk && has('core', size, opts.sizes)) continue; // measured above
          await measure(`${s} raw @ ${formatSize(c)}`, () => runRaw(ctx, file, c, 'raw', tag(`raw${formatSize(c)}`)));
          await measure(`${s} filepeer @ ${formatSize(c)}`, () => runFilepeer(ctx, file, c, 1, tag(`fp${formatSize(c)}`)));
        }
      }
      if (has('durable', size, opts.durableSize)) {
        await measure(`${s} raw+durable @ ${formatSize(defaultChunk)}`, () => runRaw(ctx, file, defaultChunk, 'durable', tag('durable')));
      }
      if (has('fanout', size, opts.fanoutSize)) {
        if (!has('core', size, opts.sizes)) await measure(`${s} filepeer @ ${formatSize(defaultChunk)}`, () => runFilepeer(ctx, file, opts.chunk, 1, tag('fp')));
        for (const groups of opts.fanoutGroups.filter((g) => g > 1)) {
          await measure(`${s} fan-out to ${groups} groups`, () => runFilepeer(ctx, file, opts.chunk, groups, tag(`fan${groups}`)));
        }
      }
    } finally {
      await rm(file.path, { force: true });
    }
  }
} finally {
  await nats?.stop().catch((err: unknown) => log(`nats-server stop: ${String(err)}`));
  await s3?.stop().catch((err: unknown) => log(`s3rver stop: ${String(err)}`));
  await admin?.close().catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
}

const elapsed = (Date.now() - startedAt) / 1000;
const table = resultsTable(results);
const vs = verdictTable(verdicts(results, defaultChunk, [...new Set([...opts.sizes, ...opts.sizes16k, opts.fanoutSize])].sort((a, b) => a - b)));
for (const e of errors) notes.push(`FAILED: ${e}`);
process.stdout.write(`\n${table}\n\n${vs}\n\n`);
for (const n of notes) process.stdout.write(`${n}\n`);
const loadRange = `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`;
process.stdout.write(`(total ${elapsed.toFixed(0)} s; load average at start ${loadText(loadAtStart)}, at end ${loadText()}, 1-minute range ${loadRange}; ${library})\n`);
if (opts.json) {
  await writeFile(opts.json, `${JSON.stringify({ runId, command: opts.command, elapsedSeconds: elapsed, loadAtStart, loadAtEnd: loadavg(), loads, results, errors }, null, 2)}\n`);
  log(`wrote ${opts.json}`);
}
if (opts.writeDocs) {
  const machine = describeMachine(repoRoot, brokerProduct, nats?.version ?? 'nats-server: not run');
  const block = renderRun({
    command: opts.command,
    date: new Date(startedAt).toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    seconds: elapsed,
    library,
    machine,
    loadAtStart: loadText(loadAtStart),
    loadAtEnd: loadText(),
    loadRange,
    table,
    verdicts: vs,
    notes,
  });
  await writeRun(join(repoRoot, 'docs', 'BENCHMARKS.md'), block);
  log('wrote docs/BENCHMARKS.md');
}
if (errors.length > 0) process.exitCode = 1;
