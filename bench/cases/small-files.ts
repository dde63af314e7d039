/**
 * Many small files end to end: `count` files of `size` bytes broadcast by one sender process
 * (`concurrency` broadcasts at a time) to one receiver group with a DirectorySink. Files per
 * second = count / (first broadcast started → the callback of the last verified file).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deadLetterQueueName, groupQueueName } from '../../shared/broker/topology.js';
import type { SmallFiles } from '../data.js';
import { withTimeout, type Child } from '../procs.js';
import { CpuWatch, allExited, deleteQueues, figure, mbps, num, type Ctx, type Measurement } from './common.js';
import { warnDeadLetters } from './filepeer.js';

export async function runSmallFiles(ctx: Ctx, files: SmallFiles, concurrency: number, tag: string): Promise<Measurement> {
  const domain = `bench-${tag}`;
  const group = `bench-${tag}`;
  const queues = [groupQueueName(group, domain), deadLetterQueueName(group)];
  const root = join(ctx.tmp, `received-${group}`);
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx);
  const total = files.count * files.size;
  try {
    await mkdir(root, { recursive: true });
    const receiver = ctx.launcher.spawn('fp-receiver', 'fp-receiver.ts', ['--url', ctx.url, '--domain', domain, '--group', group, '--root', root, '--files', String(files.count), ...ctx.receiverArgs], tag);
    children.push(receiver);
    return await withTimeout(`small files ${tag}`, 120_000 + files.count * 100, (async () => {
      await receiver.next('ready');
      const sender = ctx.launcher.spawn('fp-files-sender', 'fp-files-sender.ts', ['--url', ctx.url, '--domain', domain, '--dir', files.dir, '--concurrency', String(concurrency)], tag);
      children.push(sender);
      const [snd, rcv] = await Promise.all([sender.next('result'), receiver.next('result')]);
      await allExited(children);
      if (num(rcv, 'files') !== files.count || rcv['manifest'] !== files.digest) throw new Error(`small files: ${num(rcv, 'files')} delivered, manifest ${String(rcv['manifest'])}`);
      const ms = num(rcv, 'callbackAt') - num(snd, 'startedAt');
      const procs = [figure(snd), figure(rcv)];
      return {
        scenario: 'small-files',
        size: files.size,
        chunk: undefined,
        groups: 1,
        seconds: ms / 1000,
        mbps: mbps(total, ms),
        filesPerSecond: files.count / (ms / 1000),
        procs,
        ...cpu.finish(procs, total),
        detail: { files: files.count, concurrency, senderConfirmedS: (num(snd, 'confirmedAt') - num(snd, 'startedAt')) / 1000 },
      } satisfies Measurement;
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await rm(root, { recursive: true, force: true });
    await warnDeadLetters(ctx, [deadLetterQueueName(group)]);
    await deleteQueues(ctx, queues);
  }
}
