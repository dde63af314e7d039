/**
 * filepeer file → broker → directory, to one receiver group or several (fan-out: one broadcast,
 * every group a receiver process of its own with its own DirectorySink).
 * Per-group throughput = bytes / (just before broadcastFile → that group's callback for the
 * verified file, i.e. fsynced and renamed into place).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deadLetterQueueName, groupQueueName } from '../../shared/broker/topology.js';
import { Defaults } from '../../shared/config/defaults.js';
import type { TestFile } from '../data.js';
import { withTimeout, type Child } from '../procs.js';
import { CpuWatch, adminOp, allExited, deleteQueues, figure, mbps, num, type Ctx, type Measurement } from './common.js';

export async function runFilepeer(ctx: Ctx, file: TestFile, chunk: number | undefined, groups: number, tag: string): Promise<Measurement> {
  const domain = `bench-${tag}`;
  const names = Array.from({ length: groups }, (_, i) => `bench-${tag}-g${i + 1}`);
  const queues = names.flatMap((g) => [groupQueueName(g, domain), deadLetterQueueName(g)]);
  const roots = names.map((g) => join(ctx.tmp, `received-${g}`));
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx);
  try {
    const receivers = await Promise.all(
      names.map(async (group, i) => {
        await mkdir(roots[i]!, { recursive: true });
        const args = ['--url', ctx.url, '--domain', domain, '--group', group, '--root', roots[i]!, ...ctx.receiverArgs];
        const child = ctx.launcher.spawn(groups > 1 ? `fp-receiver-${i + 1}` : 'fp-receiver', 'fp-receiver.ts', args, tag);
        children.push(child);
        return child;
      }),
    );
    return await withTimeout(`filepeer ${tag}`, ctx.timeoutMs(file.size * groups), (async () => {
      await Promise.all(receivers.map((r) => r.next('ready')));
      const senderArgs = ['--url', ctx.url, '--domain', domain, '--file', file.path];
      if (chunk !== undefined) senderArgs.push('--chunk', String(chunk));
      const sender = ctx.launcher.spawn('fp-sender', 'fp-sender.ts', senderArgs, tag);
      children.push(sender);
      const snd = await sender.next('result');
      const rcvs = await Promise.all(receivers.map((r) => r.next('result')));
      await allExited(children);
      for (const r of rcvs) {
        if (num(r, 'bytes') !== file.size || r['sha256'] !== file.sha256) throw new Error(`${r.role} delivered ${num(r, 'bytes')} bytes, digest ${String(r['sha256'])}`);
      }
      if (snd['sha256'] !== file.sha256) throw new Error('the sender hashed something else');
      const perGroup = rcvs.map((r) => mbps(file.size, num(r, 'callbackAt') - num(snd, 'startedAt')));
      const slowest = Math.max(...rcvs.map((r) => num(r, 'callbackAt'))) - num(snd, 'startedAt');
      const procs = [figure(snd), ...rcvs.map(figure)];
      const detail: Record<string, number> = { senderConfirmedS: (num(snd, 'confirmedAt') - num(snd, 'startedAt')) / 1000, chunks: num(rcvs[0]!, 'chunks') };
      perGroup.forEach((v, i) => (detail[`group${i + 1}MBps`] = v));
      return {
        scenario: groups > 1 ? 'fanout' : 'filepeer',
        size: file.size,
        chunk: chunk ?? Defaults.chunkSize,
        groups,
        seconds: slowest / 1000,
        mbps: Math.min(...perGroup),
        procs,
        ...cpu.finish(procs, file.size * groups),
        detail,
      };
    })(), children);
  } finally {
    for (const c of children) c.kill();
    for (const root of roots) await rm(root, { recursive: true, force: true });
    await warnDeadLetters(ctx, queues.filter((q) => q.startsWith('filepeer-dead-letter.')));
    await deleteQueues(ctx, queues);
  }
}

/** A dead letter in a benchmark is a bug somewhere: say so. */
export async function warnDeadLetters(ctx: Ctx, deadLetterQueues: string[]): Promise<void> {
  for (const q of deadLetterQueues) {
    const dl = await adminOp(ctx.admin, (ch) => ch.checkQueue(q)).catch(() => undefined);
    if (dl && dl.messageCount > 0) ctx.log(`warning: ${dl.messageCount} packet(s) dead-lettered in ${q}`);
  }
}
