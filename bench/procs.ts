/**
 * Child processes of the harness, and the CPU and disk use of processes it does not own (the
 * broker) read from /proc.
 *
 * Every role runs in a process of its own so that its peak RSS and CPU seconds are its own. The
 * roles are bundled once per run with esbuild (packages left external, resolved from
 * node_modules at run time) and run with plain `node`: that is how filepeer is deployed (the
 * Lambda and the worker are esbuild bundles), and it keeps tsx's loader (about 35 MiB of RSS,
 * 4 MiB of heap and a second of CPU per process) out of the figures. `--tsx` runs the sources
 * under tsx instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import type { ChildReport } from './lib.js';

export interface Child {
  role: string;
  pid: number | undefined;
  /** Resolves with the first report of this kind (rejects if the child exits first). */
  next(event: ChildReport['event']): Promise<ChildReport>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Launcher {
  spawn(role: string, script: string, args: string[], tag: string): Child;
}

export interface LauncherOptions {
  benchDir: string;
  repoRoot: string;
  /** Where bundles go (under the repo, so node_modules resolves). */
  outDir: string;
  useTsx: boolean;
  cpuProfDir: string | undefined;
  nodeArgs: string[];
  log: (line: string) => void;
}

/** The child scripts, bundled together (they share bench/lib.ts and the library). */
export const ROLE_SCRIPTS = [
  'raw-publisher.ts',
  'raw-consumer.ts',
  'nanite-publisher.ts',
  'nanite-consumer.ts',
  'fp-sender.ts',
  'fp-receiver.ts',
  'fp-files-sender.ts',
  'fp-s3-sender.ts',
  'nats-objstore.ts',
  's3-server.ts',
  's3-direct-upload.ts',
] as const;

export async function createLauncher(options: LauncherOptions): Promise<Launcher> {
  if (!options.useTsx) {
    await build({
      entryPoints: ROLE_SCRIPTS.map((s) => join(options.benchDir, s)),
      outdir: options.outDir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
  }
  return {
    spawn(role, script, args, tag) {
      const nodeArgs = options.useTsx ? ['--import', 'tsx'] : [];
      nodeArgs.push(...options.nodeArgs);
      if (options.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=${tag}-${role}.cpuprofile`);
      const entry = options.useTsx ? join(options.benchDir, script) : join(options.outDir, script.replace(/\.ts$/, '.mjs'));
      return spawnChild(role, process.execPath, [...nodeArgs, entry, ...args], options.repoRoot);
    },
  };
}

/** Any program speaking the JSON-lines protocol (or none: then only `exited` is of use). */
export function spawnChild(role: string, command: string, args: string[], cwd: string): Child {
  const proc: ChildProcess = spawn(command, args, {
    cwd,
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
      const parsed = JSON.parse(line) as unknown;
      if (typeof parsed === 'object' && parsed !== null && 'event' in parsed) reports.push(parsed as ChildReport);
      else process.stderr.write(`[${role}] ${line}\n`);
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
    proc.on('error', (err) => {
      process.stderr.write(`[${role}] cannot start: ${err.message}\n`);
      exitCode = -1;
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
    pid: proc.pid,
    next,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => {
      if (exitCode === undefined && proc.pid !== undefined) proc.kill(signal);
    },
  };
}

/** Race `work` against a deadline; on failure every child of the case is killed. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>, children: Child[]): Promise<T> {
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
// Processes we do not own: CPU seconds and bytes written, from /proc (Linux only).

export interface ProcSample {
  cpuS: number;
  writeBytes: number;
}

export function sampleProc(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
    let writeBytes = NaN;
    try {
      writeBytes = Number(/^write_bytes:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
    } catch {
      // io is readable only for our own processes unless we are root
    }
    return { cpuS: ticks / 100, writeBytes };
  } catch {
    return undefined;
  }
}

export function procDelta(before: ProcSample | undefined, pid: number | undefined): { cpuS?: number; writeMiB?: number } {
  const after = sampleProc(pid);
  if (!before || !after) return {};
  return { cpuS: after.cpuS - before.cpuS, writeMiB: (after.writeBytes - before.writeBytes) / (1024 * 1024) };
}

/** The RabbitMQ server (beam.smp running `rabbit boot`) when the broker URL is this machine. */
export function findBrokerPid(url: string): number | undefined {
  if (process.platform !== 'linux' || !/^amqps?:\/\/([^@/]*@)?(127\.0\.0\.1|localhost)(:|\/|$)/.test(url)) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      // The server itself, not a passing rabbitmqctl, which is a beam.smp too.
      if (cmd.includes('beam.smp') && cmd.includes('\0rabbit\0boot')) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
