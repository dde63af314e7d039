/** What every scenario of the harness is given, and what each returns. */
import type * as amqp from 'amqplib';
import { GiB, type ChildReport } from '../lib.js';
import { procDelta, sampleProc, type Child, type Launcher, type ProcSample } from '../procs.js';

export interface Ctx {
  url: string;
  launcher: Launcher;
  admin: amqp.ChannelModel;
  /** Per-run scratch directory (under .bench-tmp/). */
  tmp: string;
  runId: string;
  brokerPid: number | undefined;
  log: (line: string) => void;
  /** Per-case deadline for `bytes` moved. */
  timeoutMs: (bytes: number) => number;
  /** Receiver tuning passed to fp-receiver (--sync-bytes, --read-ahead-bytes), if any. */
  receiverArgs: string[];
}

export type Scenario =
  | 'raw'
  | 'durable'
  | 'filepeer'
  | 'nanite'
  | 'nats'
  | 's3-direct'
  | 'filepeer-s3'
  | 'fanout'
  | 'small-files';

/** One process's figures over the timed part of a case. */
export interface ProcFigure {
  role: string;
  rssMiB: number;
  /** CPU seconds (user + system) from just before the timed work to the end, startup excluded. */
  cpuS: number;
}

export interface Measurement {
  scenario: Scenario;
  size: number;
  /** Chunk size (filepeer's: the one in effect, the library's default when none was asked); undefined = none (S3 upload, small files). */
  chunk: number | undefined;
  groups: number;
  seconds: number;
  /** Per group (the slowest group for a fan-out), 10^6 bytes per second. */
  mbps: number;
  filesPerSecond?: number;
  procs: ProcFigure[];
  brokerCpuS?: number;
  brokerWriteMiB?: number;
  /** nats-server or s3rver, when the scenario uses one. */
  serverCpuS?: number;
  /** All CPU (processes, broker, server) per GiB delivered (size × groups). */
  cpuPerGiB: number;
  detail: Record<string, number>;
}

export const num = (r: ChildReport, key: string): number => {
  const v = r[key];
  if (typeof v !== 'number') throw new Error(`${r.role} reported no numeric ${key}`);
  return v;
};

export function figure(r: ChildReport): ProcFigure {
  return { role: r.role, rssMiB: num(r, 'maxRssKiB') / 1024, cpuS: num(r, 'cpuSeconds') - num(r, 'cpuStart') };
}

export const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** CPU of the broker (and of a server the scenario started) over a case, from /proc. */
export class CpuWatch {
  private readonly broker: ProcSample | undefined;
  private readonly server: ProcSample | undefined;
  constructor(private readonly ctx: Ctx, private readonly serverPid?: number) {
    this.broker = sampleProc(ctx.brokerPid);
    this.server = sampleProc(serverPid);
  }

  finish(procs: ProcFigure[], deliveredBytes: number): Pick<Measurement, 'brokerCpuS' | 'brokerWriteMiB' | 'serverCpuS' | 'cpuPerGiB'> {
    const b = procDelta(this.broker, this.ctx.brokerPid);
    const s = procDelta(this.server, this.serverPid);
    const total = procs.reduce((n, p) => n + p.cpuS, 0) + (b.cpuS ?? 0) + (s.cpuS ?? 0);
    return {
      ...(b.cpuS !== undefined ? { brokerCpuS: b.cpuS, brokerWriteMiB: b.writeMiB } : {}),
      ...(s.cpuS !== undefined ? { serverCpuS: s.cpuS } : {}),
      cpuPerGiB: total / (deliveredBytes / GiB),
    };
  }
}

/** One queue operation on a channel of its own: a 404 closes that channel, never the run. */
export async function adminOp<T>(admin: amqp.ChannelModel, op: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const ch = await admin.createChannel();
  ch.on('error', () => undefined);
  try {
    return await op(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

export async function deleteQueues(ctx: Ctx, queues: string[]): Promise<void> {
  for (const q of queues) {
    await adminOp(ctx.admin, (ch) => ch.deleteQueue(q)).catch((err: unknown) => ctx.log(`could not delete ${q}: ${String(err)}`));
  }
}

/** Exit codes of the children of a case: anything but 0 fails it. */
export async function allExited(children: Child[]): Promise<void> {
  const codes = await Promise.all(children.map((c) => c.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`children exited with ${children.map((c, i) => `${c.role}=${String(codes[i])}`).join(', ')}`);
}
