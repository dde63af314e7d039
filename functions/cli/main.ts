/**
 * `filepeer`: send, receive, status, dlq. Thin: every subcommand turns its flags into validated
 * settings (shared/cli/settings.ts) and calls shared code. Exit codes: 0 ok, 2 usage or
 * configuration, 1 anything else (broker unreachable…); an error is one line on stderr,
 * `filepeer: <message>`, with its stack only when FILEPEER_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { ExitCode, errorText, exitCodeOf } from '../../shared/cli/exit.js';
import { buildProgram } from './program.js';

const debug = process.env['FILEPEER_DEBUG'] === '1';

function fail(err: unknown, code: ExitCode): never {
  process.stderr.write(errorText(err, debug));
  process.exit(code);
}

// Whatever escapes (an 'error' event nobody listened to, a rejected promise) is still one line.
process.on('uncaughtException', (err) => fail(err, ExitCode.Runtime));
process.on('unhandledRejection', (err) => fail(err, ExitCode.Runtime));
// `filepeer dlq list | head`: a closed pipe ends the output, it is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.Ok);
  fail(err, ExitCode.Runtime);
});

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

let exitCode: ExitCode = ExitCode.Ok;
const done = (code: ExitCode): void => {
  exitCode = code;
};

const program = buildProgram(version, done);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    if (err.exitCode === 0) process.exit(ExitCode.Ok);
    // `filepeer` or `filepeer dlq` alone: the help went to stderr, and that is the whole message.
    if (err.code === 'commander.help') process.exit(ExitCode.Usage);
    fail(new Error(err.message.replace(/^error: /, '')), ExitCode.Usage);
  }
  fail(err, exitCodeOf(err));
}
// The broker connection and the S3 clients are closed; an idle keep-alive socket must not hold the exit.
process.exit(exitCode);
