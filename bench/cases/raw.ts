/**
 * Baselines over raw amqplib, the broker path's limit: the same file, persistent messages on a
 * confirm channel with filepeer's window, manual ack.
 * - raw: one message per chunk, acked on arrival;
 * - durable (raw+durable): plus what filepeer's contract asks (SHA-256 on both sides, write, fsync
 *   every 8 MiB, ack after the fsync), with filepeer's receiver prefetch;
 * - nanite: Nanite's encoding (JSON packets, base64 chunks, 16 KiB) on the same delivery settings.
 * Throughput = bytes / (first publish → last message acked).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Defaults } from '../../shared/config/defaults.js';
import { rawPrefetchFor } from '../lib.js';
import type { TestFile } from '../data.js';
import { withTimeout, type Child } from '../procs.js';
import { CpuWatch, allExited, deleteQueues, figure, mbps, num, type Ctx, type Measurement } from './common.js';

export async function runRaw(ctx: Ctx, file: TestFile, chunk: number, mode: 'raw' | 'durable', tag: string): Promise<Measurement> {
  const queue = `filepeer-bench.raw.${tag}`;
  const durable = mode === 'durable';
  // Durable mode holds a sync's worth of messages unacked: it needs filepeer's receiver prefetch
  // (held chunks plus the read-ahead), or the broker would stop delivering before an fsync is due.
  const prefetch = (durable ? Math.ceil(Defaults.syncBytes / chunk) : 0) + rawPrefetchFor(chunk, Defaults.readAheadBytes);
  const out = join(ctx.tmp, `raw-${tag}.bin`);
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx);
  try {
    const consumerArgs = ['--url', ctx.url, '--queue', queue, '--bytes', String(file.size), '--prefetch', String(prefetch)];
    if (durable) consumerArgs.push('--durable-file', out, '--sync-bytes', String(Defaults.syncBytes));
    const consumer = ctx.launcher.spawn(`${mode}-consumer`, 'raw-consumer.ts', consumerArgs, tag);
    children.push(consumer);
    return await withTimeout(`${mode} ${tag}`, ctx.timeoutMs(file.size), (async () => {
      await consumer.next('ready');
      const publisherArgs = ['--url', ctx.url, '--queue', queue, '--file', file.path, '--chunk', String(chunk)];
      if (durable) publisherArgs.push('--hash');
      const publisher = ctx.launcher.spawn(`${mode}-publisher`, 'raw-publisher.ts', publisherArgs, tag);
      children.push(publisher);
      const [pub, con] = await Promise.all([publisher.next('result'), consumer.next('result')]);
      await allExited(children);
      if (num(pub, 'bytes') !== file.size || num(con, 'bytes') !== file.size) {
        throw new Error(`${mode} moved ${num(pub, 'bytes')} / ${num(con, 'bytes')} bytes, expected ${file.size}`);
      }
      if (durable && (pub['sha256'] !== file.sha256 || con['sha256'] !== file.sha256)) throw new Error(`${mode}: digest mismatch`);
      const ms = num(con, 'lastAckAt') - num(pub, 'firstPublishAt');
      const procs = [figure(pub), figure(con)];
      return { scenario: mode, size: file.size, chunk, groups: 1, seconds: ms / 1000, mbps: mbps(file.size, ms), procs, ...cpu.finish(procs, file.size), detail: { prefetch } };
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await deleteQueues(ctx, [queue]);
    await rm(out, { force: true });
  }
}

export const NANITE_CHUNK = 16 * 1024;

export async function runNanite(ctx: Ctx, file: TestFile, tag: string): Promise<Measurement> {
  const queue = `filepeer-bench.nanite.${tag}`;
  const out = join(ctx.tmp, `nanite-${tag}.bin`);
  // Messages are base64 (4/3 the bytes): the same byte read-ahead as raw at 16 KiB.
  const prefetch = rawPrefetchFor(NANITE_CHUNK, Defaults.readAheadBytes);
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx);
  try {
    const consumer = ctx.launcher.spawn('nanite-consumer', 'nanite-consumer.ts', ['--url', ctx.url, '--queue', queue, '--file', out, '--prefetch', String(prefetch)], tag);
    children.push(consumer);
    return await withTimeout(`nanite ${tag}`, ctx.timeoutMs(file.size * 2), (async () => {
      await consumer.next('ready');
      const publisher = ctx.launcher.spawn('nanite-publisher', 'nanite-publisher.ts', ['--url', ctx.url, '--queue', queue, '--file', file.path, '--chunk', String(NANITE_CHUNK)], tag);
      children.push(publisher);
      const [pub, con] = await Promise.all([publisher.next('result'), consumer.next('result')]);
      await allExited(children);
      if (num(con, 'bytes') !== file.size || con['sha256'] !== file.sha256) throw new Error(`nanite delivered ${num(con, 'bytes')} bytes, digest ${String(con['sha256'])}`);
      const ms = num(con, 'lastAckAt') - num(pub, 'firstPublishAt');
      const procs = [figure(pub), figure(con)];
      return { scenario: 'nanite', size: file.size, chunk: NANITE_CHUNK, groups: 1, seconds: ms / 1000, mbps: mbps(file.size, ms), procs, ...cpu.finish(procs, file.size), detail: { prefetch } };
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await deleteQueues(ctx, [queue]);
    await rm(out, { force: true });
  }
}
