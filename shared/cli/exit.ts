import { ConfigError, InvalidDestinationError, InvalidDomainError, messageOf } from '../errors.js';

/** The CLI's exit codes: scripts tell "fix the command" (2) from "try again later" (1). */
export const ExitCode = { Ok: 0, Runtime: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad flags, configuration or arguments are usage errors; the broker, S3, the network are not. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof ConfigError || err instanceof InvalidDomainError || err instanceof InvalidDestinationError ? ExitCode.Usage : ExitCode.Runtime;
}

/**
 * `filepeer: <message>` on one line, whatever the message holds (OpenSSL's end in a newline, and a
 * log collector would split the reason from the rest). With FILEPEER_DEBUG=1 the stack follows, and
 * the causes' stacks: what a bug report needs, and nothing an operator should have to read.
 */
export function errorText(err: unknown, debug: boolean): string {
  const line = `filepeer: ${messageOf(err).replace(/\s*\n\s*/g, ' ').trim()}`;
  if (!debug) return `${line}\n`;
  const stacks: string[] = [];
  for (let e: unknown = err; e !== undefined && stacks.length < 10; e = e instanceof Error ? e.cause : undefined) {
    stacks.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
  return `${line}\n${stacks.join('\ncaused by: ')}\n`;
}
