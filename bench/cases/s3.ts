/**
 * S3 through s3rver (shared/local/embedded-s3.ts, in a process of its own):
 * - s3-direct: `@aws-sdk/lib-storage` Upload of the file to the source bucket, the baseline.
 *   The object it makes is the source of the next case.
 * - filepeer-s3: S3 → broker → S3, as the functions do it: broadcastS3Object streams the object
 *   from the source bucket; a receiver with an S3Sink reassembles it into the destination bucket.
 *   Time = just before broadcastS3Object → the receiver's callback (multipart completed, verified).
 */
import { deadLetterQueueName, groupQueueName } from '../../shared/broker/topology.js';
import { Defaults } from '../../shared/config/defaults.js';
import { formatSize } from '../lib.js';
import type { TestFile } from '../data.js';
import { withTimeout, type Child } from '../procs.js';
import { CpuWatch, allExited, deleteQueues, figure, mbps, num, type Ctx, type Measurement } from './common.js';
import { warnDeadLetters } from './filepeer.js';

export const SOURCE_BUCKET = 'bench-source';
export const DESTINATION_BUCKET = 'bench-received';

export interface S3Server {
  endpoint: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startS3Server(ctx: Ctx): Promise<S3Server> {
  const child = ctx.launcher.spawn('s3-server', 's3-server.ts', ['--buckets', `${SOURCE_BUCKET},${DESTINATION_BUCKET}`], `${ctx.runId}-s3`);
  const ready = await withTimeout('s3rver start', 30_000, child.next('ready'), [child]);
  return {
    endpoint: String(ready['endpoint']),
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill(), 10_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** The key a file is uploaded under: `incoming/<domain>/<name>` routes it to `<domain>`. */
export function sourceKey(domain: string, file: TestFile): string {
  return `incoming/${domain}/input-${formatSize(file.size)}.bin`;
}

export async function runS3Direct(ctx: Ctx, s3: S3Server, file: TestFile, key: string, tag: string): Promise<Measurement> {
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx, s3.pid);
  const up = ctx.launcher.spawn('s3-direct-upload', 's3-direct-upload.ts', ['--s3-endpoint', s3.endpoint, '--bucket', SOURCE_BUCKET, '--key', key, '--file', file.path], tag);
  children.push(up);
  return withTimeout(`s3-direct ${tag}`, ctx.timeoutMs(file.size), (async () => {
    const r = await up.next('result');
    await allExited(children);
    const ms = num(r, 'endedAt') - num(r, 'startedAt');
    const procs = [figure(r)];
    return { scenario: 's3-direct', size: file.size, chunk: undefined, groups: 1, seconds: ms / 1000, mbps: mbps(file.size, ms), procs, ...cpu.finish(procs, file.size), detail: {} } satisfies Measurement;
  })(), children);
}

export async function runFilepeerS3(ctx: Ctx, s3: S3Server, file: TestFile, domain: string, key: string, chunk: number | undefined, tag: string): Promise<Measurement> {
  const group = `bench-${tag}`;
  const queues = [groupQueueName(group, domain), deadLetterQueueName(group)];
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx, s3.pid);
  try {
    const receiver = ctx.launcher.spawn('fp-receiver-s3', 'fp-receiver.ts', ['--url', ctx.url, '--domain', domain, '--group', group, '--s3-endpoint', s3.endpoint, '--bucket', DESTINATION_BUCKET, ...ctx.receiverArgs], tag);
    children.push(receiver);
    return await withTimeout(`filepeer-s3 ${tag}`, ctx.timeoutMs(file.size * 2), (async () => {
      await receiver.next('ready');
      const args = ['--url', ctx.url, '--s3-endpoint', s3.endpoint, '--bucket', SOURCE_BUCKET, '--key', key];
      if (chunk !== undefined) args.push('--chunk', String(chunk));
      const sender = ctx.launcher.spawn('fp-s3-sender', 'fp-s3-sender.ts', args, tag);
      children.push(sender);
      const [snd, rcv] = await Promise.all([sender.next('result'), receiver.next('result')]);
      await allExited(children);
      if (num(rcv, 'bytes') !== file.size || rcv['sha256'] !== file.sha256) throw new Error(`filepeer-s3 delivered ${num(rcv, 'bytes')} bytes, digest ${String(rcv['sha256'])}`);
      const ms = num(rcv, 'callbackAt') - num(snd, 'startedAt');
      const procs = [figure(snd), figure(rcv)];
      return { scenario: 'filepeer-s3', size: file.size, chunk: chunk ?? Defaults.chunkSize, groups: 1, seconds: ms / 1000, mbps: mbps(file.size, ms), procs, ...cpu.finish(procs, file.size), detail: {} } satisfies Measurement;
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await warnDeadLetters(ctx, [deadLetterQueueName(group)]);
    await deleteQueues(ctx, queues);
  }
}
