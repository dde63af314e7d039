import { spawn } from 'node:child_process';
import os from 'node:os';
import { HandlerError, messageOf } from '../errors.js';
import { HandlerRouter } from '../handlers/router.js';
import type { DomainHandlerEvent } from '../handlers/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/types.js';
import type { CommandTemplate, Placeholder } from './command-template.js';

export interface CommandOutcome {
  command: string;
  exitCode: number;
  durationMs: number;
}

/**
 * `filepeer receive --exec 'cmd {path}'`: the local form of a domain handler. It takes the place of
 * the receiver plan's HandlerRouter, so the command runs where a handler runs (after the file is
 * verified and visible, before the transfer is marked done) and fails like one: logged with its exit
 * code by runReceiver, the receiver carries on, the file stays delivered. A process that dies while
 * the command runs runs it again on the next delivery of the end packet: commands must be idempotent.
 *
 * The command is spawned without a shell; its stdout and stderr go to filepeer's stderr, because
 * stdout carries one line per delivered file for scripts.
 */
export class CommandHandler extends HandlerRouter {
  constructor(
    private readonly template: CommandTemplate,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    super([]);
  }

  override async dispatch(event: DomainHandlerEvent): Promise<CommandOutcome> {
    const values: Record<Placeholder, string> = {
      path: event.path ?? (event.bucket !== undefined && event.key !== undefined ? `s3://${event.bucket}/${event.key}` : ''),
      domain: event.domain,
      token: event.token,
      sha256: event.sha256,
      destination: event.destination,
      group: event.group,
      size: String(event.size),
    };
    const { program, args } = this.template.render(values);
    const log = this.logger.child({ token: event.token, domain: event.domain, group: event.group });
    const started = Date.now();
    const exitCode = await run(program, args);
    const durationMs = Date.now() - started;
    this.metrics.duration('ExecDuration', { group: event.group, domain: event.domain }, durationMs, { token: event.token });
    if (exitCode !== 0) throw new HandlerError(`command ${program} exited with code ${exitCode}`);
    log.info({ command: program, exitCode, durationMs }, 'command ran');
    return { command: program, exitCode, durationMs };
  }
}

/** The command's exit code; a signal counts as 128 + its number, as a shell reports it. */
function run(program: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', process.stderr, process.stderr], shell: false });
    child.once('error', (err) => reject(new HandlerError(`cannot run ${program}: ${messageOf(err)}`, { cause: err })));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const n = (os.constants.signals as Record<string, number | undefined>)[signal];
  return n ?? 0;
}
