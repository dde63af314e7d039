/**
 * NATS JetStream Object Store, the closest existing system (chunked files over a broker): put the
 * file, then get it back into a file, fsynced and verified. A reader cannot start before the put
 * ends, so the time to a verified copy is put + get.
 *
 * The harness starts its own `nats-server -js` on a free loopback port, storing under the run's
 * scratch directory, so its CPU can be read and nothing is left behind. Without nats-server the
 * case is skipped with a message (install: `npm run bench:setup`, i.e. apt-get install nats-server).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestFile } from '../data.js';
import { spawnChild, withTimeout, type Child } from '../procs.js';
import { CpuWatch, allExited, figure, mbps, num, type Ctx, type Measurement } from './common.js';

export interface NatsServer {
  servers: string;
  pid: number | undefined;
  version: string;
  stop(): Promise<void>;
}

const CANDIDATES = ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

function findNatsServer(): { path: string; version: string } | undefined {
  for (const path of CANDIDATES) {
    const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { path, version: r.stdout.trim() };
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A private nats-server with JetStream, or the reason there is none. */
export async function startNats(ctx: Ctx): Promise<NatsServer | string> {
  const found = findNatsServer();
  if (!found) return 'nats-server not found: NATS Object Store skipped (install it with `npm run bench:setup`, i.e. apt-get install -y nats-server)';
  const port = await freePort();
  const store = join(ctx.tmp, 'nats-store');
  await mkdir(store, { recursive: true });
  const child = spawnChild('nats-server', found.path, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], ctx.tmp);
  const servers = `127.0.0.1:${port}`;
  // Ready when the port answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill();
      return `nats-server did not start on ${servers}: NATS Object Store skipped`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    servers,
    pid: child.pid,
    version: found.version,
    async stop() {
      child.kill('SIGTERM');
      await child.exited;
      await rm(store, { recursive: true, force: true });
    },
  };
}

export async function runNats(ctx: Ctx, nats: NatsServer, file: TestFile, tag: string): Promise<Measurement> {
  const bucket = `bench-${tag}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const out = join(ctx.tmp, `nats-${tag}.bin`);
  const children: Child[] = [];
  const cpu = new CpuWatch(ctx, nats.pid);
  const common = ['--servers', nats.servers, '--bucket', bucket, '--name', 'input.bin'];
  try {
    return await withTimeout(`nats ${tag}`, ctx.timeoutMs(file.size * 3), (async () => {
      const putter = ctx.launcher.spawn('nats-put', 'nats-objstore.ts', ['--op', 'put', ...common, '--file', file.path], tag);
      children.push(putter);
      const put = await putter.next('result');
      await allExited(children);
      const getter = ctx.launcher.spawn('nats-get', 'nats-objstore.ts', ['--op', 'get', ...common, '--file', out], tag);
      children.push(getter);
      const get = await getter.next('result');
      await allExited(children);
      if (num(get, 'bytes') !== file.size || get['sha256'] !== file.sha256) throw new Error(`nats get gave ${num(get, 'bytes')} bytes, digest ${String(get['sha256'])}`);
      const putMs = num(put, 'endedAt') - num(put, 'startedAt');
      const getMs = num(get, 'endedAt') - num(get, 'startedAt');
      const procs = [figure(put), figure(get)];
      return {
        scenario: 'nats',
        size: file.size,
        chunk: 128 * 1024,
        groups: 1,
        seconds: (putMs + getMs) / 1000,
        mbps: mbps(file.size, putMs + getMs),
        procs,
        ...cpu.finish(procs, file.size),
        detail: { putMBps: mbps(file.size, putMs), getMBps: mbps(file.size, getMs), putS: putMs / 1000, getS: getMs / 1000 },
      } satisfies Measurement;
    })(), children);
  } finally {
    for (const c of children) c.kill();
    await rm(out, { force: true });
  }
}
