import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../../support/broker.js';

/** The repository root: children run from here so `--import tsx` and relative paths resolve. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A TypeScript script running in a node child under tsx, its stdout and stderr kept as lines. */
export class NodeChild {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly proc: ChildProcess;
  private exit: Exit | undefined;

  constructor(script: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    collectLines(this.proc.stdout, this.stdout);
    collectLines(this.proc.stderr, this.stderr);
    this.exited = new Promise((done) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        done(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** stdout and stderr lines that parse as JSON objects (pino's log lines, the worker's progress lines). */
  jsonLines(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of [...this.stdout, ...this.stderr]) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line cut short by SIGKILL: not evidence of anything.
      }
    }
    return out;
  }

  /** The first JSON line matching `match`, waiting for it; fails early if the child exits first. */
  async line(what: string, match: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return waitFor(what, () => {
      const found = this.jsonLines().find(match);
      if (found) return found;
      if (this.exit) throw new Error(`child exited (${JSON.stringify(this.exit)}) before ${what}; stderr:\n${this.stderr.slice(-20).join('\n')}`);
      return undefined;
    }, timeoutMs);
  }

  /** Send `signal` and wait for the exit. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    if (!this.exit) this.proc.kill(signal);
    return this.exited;
  }

  /** For `finally`: make sure the child is gone, whatever state the test left it in. */
  async dispose(): Promise<void> {
    if (this.exit) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (piece: string) => {
    const parts = (rest + piece).split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts);
  });
  stream?.on('end', () => {
    if (rest) into.push(rest);
  });
}

/**
 * The parent's environment without any FILEPEER_ setting (a developer's shell, or an earlier test
 * that assigned process.env, must not leak a destination or a handler into a child) except the
 * broker URL, which children must share with the test, plus `extra`.
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FILEPEER_')) env[k] = v;
  if (process.env['FILEPEER_AMQP_URL']) env['FILEPEER_AMQP_URL'] = process.env['FILEPEER_AMQP_URL'];
  return { ...env, ...extra };
}
