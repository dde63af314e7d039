import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * `functions/worker/main.ts` in a child process with every byte it writes kept: the security tests
 * grep the whole of stdout and stderr for secrets, so nothing is filtered or split into lines
 * before it is searched (a secret cut across two chunks is still found in the joined text).
 */
export class CapturedWorker {
  private stdoutText = '';
  private stderrText = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', 'functions/worker/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (s: string) => (this.stdoutText += s));
    this.proc.stderr?.on('data', (s: string) => (this.stderrText += s));
    // 'close' (not 'exit'): every byte of both pipes has been read by then.
    this.exited = new Promise((done) => this.proc.on('close', (code, signal) => done((this.exit = { code, signal }))));
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Everything the process wrote, both streams. */
  get output(): string {
    return `${this.stdoutText}\n${this.stderrText}`;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** The pino lines (JSON objects) the worker wrote on stderr. */
  logLines(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.stderrText.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line still being written: the next poll sees it whole.
      }
    }
    return out;
  }

  /** Throw (with the worker's stderr) if it has exited: a wait for something it will never do ends now. */
  assertRunning(what: string): void {
    if (this.exit) throw new Error(`the worker exited (${JSON.stringify(this.exit)}) before ${what}; stderr:\n${this.stderrText.slice(-4000)}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exit) this.proc.kill(signal);
    return this.exited;
  }

  /** For `finally`: make sure the child is gone. */
  async dispose(): Promise<void> {
    if (this.exit) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The parent's environment minus anything that configures filepeer, the broker or AWS (a
 * developer's shell or another suite's process.env must not decide where the worker connects or
 * which credentials it signs with), plus `extra`. The AWS SDK is kept away from ~/.aws and from
 * the instance metadata service, so the environment given here is the only configuration it has.
 */
export function isolatedEnv(scratchDir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(FILEPEER_|AWS_|BROKER_)/.test(k) || k === 'AMQP_URL') continue;
    env[k] = v;
  }
  return {
    ...env,
    AWS_CONFIG_FILE: resolve(scratchDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: resolve(scratchDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // Node 20 here; the SDK's notice that it will need Node 22 is not what these tests are about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}
