import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BROKER_URL } from './broker.js';

/** The `filepeer` bin, as package.json's "bin" names it. */
export const CLI = join(import.meta.dirname, '../../functions/cli/filepeer.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to (or, when undefined, removed from) the test's environment. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then stdin is closed. */
  input?: Buffer;
  timeoutMs?: number;
}

function envOf(extra: CliOptions['env']): NodeJS.ProcessEnv {
  // The real broker; logs at warn so that a failing test shows what went wrong and little else.
  const env: NodeJS.ProcessEnv = { ...process.env, FILEPEER_AMQP_URL: BROKER_URL, FILEPEER_LOG_LEVEL: 'warn' };
  delete env['FILEPEER_DEBUG'];
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A running `filepeer …` child process. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;

  constructor(readonly child: ChildProcessWithoutNullStreams, timeoutMs: number) {
    child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  /** Lines printed on stdout so far, parsed as JSON (receive --json prints one per file). */
  jsonLines<T = Record<string, unknown>>(): T[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as T);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: envOf(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  const proc = new CliProcess(child, options.timeoutMs ?? 120_000);
  if (options.input) child.stdin.end(options.input);
  else child.stdin.end();
  return proc;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, { timeoutMs: 60_000, ...options }).exited;
}

/** What a usage or runtime error must look like: exactly one line, `filepeer: …`, no stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l.length > 0);
  return lines.length === 1 && lines[0]!.startsWith('filepeer: ') && !/\n\s+at /.test(stderr);
}
