/**
 * The command line's grammar: every subcommand, its arguments and options, its help. The work is in
 * one file per subcommand (send.ts, receive.ts, status.ts, dlq.ts), imported only when that
 * subcommand runs: `--help` and a mistyped flag answer before the AWS SDK and amqplib are loaded.
 */
import { Command } from 'commander';
import type { ExitCode } from '../../shared/cli/exit.js';
import type { DlqFlags, ReceiveFlags, SendFlags, StatusFlags } from '../../shared/cli/settings.js';
import { ConfigError } from '../../shared/errors.js';

/** Called by a subcommand's action with the code the process should exit with. */
export type Done = (code: ExitCode) => void;

/** The options every subcommand takes: where the broker is, the config file, output for scripts. */
function withCommonOptions(command: Command): Command {
  return command
    .option('--url <amqp-url>', 'broker URL (default: FILEPEER_AMQP_URL, AMQP_URL, the config file, amqp://guest:guest@127.0.0.1:5672)')
    .option('--config <file>', 'JSON config file (default: FILEPEER_CONFIG)')
    .option('--json', 'print JSON for scripts instead of text')
    .option('--log-level <level>', 'JSON log lines on stderr from this level: trace…fatal, silent (default: FILEPEER_LOG_LEVEL, warn)');
}

export function buildProgram(version: string, done: Done): Command {
  const program = new Command('filepeer')
    .description('File streaming between peers over RabbitMQ: send files, receive them as a group, inspect queues and dead letters.')
    .version(version)
    // Commander would print its own "error: …" and exit 1; errors are reported by main.ts.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError();

  withCommonOptions(
    program
      .command('send')
      .description('broadcast a file, an S3 object or stdin to every receiver group bound to a domain')
      .argument('<source>', 'a file, s3://bucket/key, or - for stdin')
      .option('-d, --domain <domain>', 'the domain to broadcast on (or "domain" in the config file)')
      .option('--dest <path>', 'relative path the receivers put it at (default: the file name; required for -)')
      .option('--meta <key=value...>', 'metadata handed to every receiver (repeatable)')
      .option('--chunk-size <size>', 'bytes per chunk, e.g. 1MiB, 256KiB (default: FILEPEER_CHUNK_SIZE, 1MiB; at most 4MiB)')
      .option('--s3-endpoint <url>', 'S3 endpoint for an s3:// source (default: FILEPEER_S3_ENDPOINT, AWS)')
      .option('--no-progress', 'no progress bar (there is none anyway when stderr is not a terminal)'),
  ).action(async (source: string, flags: SendFlags) => done(await (await import('./send.js')).send(source, flags)));

  withCommonOptions(
    program
      .command('receive')
      .description("receive a group's files until SIGTERM/SIGINT (or --once N files), then drain")
      .option('-d, --domain <domain-or-pattern...>', 'domains or patterns (reports, reports.#); repeatable or comma-separated')
      .option('-g, --group <group>', 'the receiver group (default: FILEPEER_GROUP)')
      .option('--to <dir|s3://bucket/prefix>', 'where files go (default: FILEPEER_DEST_DIR, FILEPEER_DEST_BUCKET)')
      .option('--exec <command>', 'run per verified file, no shell; placeholders {path} {domain} {token} {sha256} {destination} {group} {size}')
      .option('--once <n>', 'stop after n files')
      .option('--prefetch <n>', 'a fixed per-consumer prefetch (default: follows the transfers)')
      .option('--s3-endpoint <url>', 'S3 endpoint for an s3:// destination (default: FILEPEER_S3_ENDPOINT, AWS)'),
  ).action(async (flags: ReceiveFlags) => done(await (await import('./receive.js')).receive(flags)));

  withCommonOptions(
    program
      .command('status')
      .description("receiver groups: their queues' depth and consumers, transfers in flight, dead letters by reason")
      .option('-g, --group <group...>', 'groups to report on (AMQP cannot list queues); repeatable or comma-separated')
      .option('-d, --domain <pattern...>', "the groups' domains or patterns: which queues to look at")
      .option('--to <dir|s3://bucket/prefix>', "the groups' destination, where their transfer state is: lists transfers in flight")
      .option('--management-url <url>', 'RabbitMQ management API, when enabled: lists every group (default: FILEPEER_MANAGEMENT_URL)')
      .option('--sample <n>', 'dead letters read per group to count reasons (default 100)')
      .option('--s3-endpoint <url>', 'S3 endpoint for an s3:// --to (default: FILEPEER_S3_ENDPOINT, AWS)'),
  ).action(async (flags: StatusFlags) => done(await (await import('./status.js')).status(flags)));

  const dlq = program.command('dlq').description("a group's dead-lettered packets: list, replay, purge");
  const selecting = (command: Command): Command =>
    withCommonOptions(
      command
        .option('-g, --group <group>', 'the receiver group (default: FILEPEER_GROUP)')
        .option('--token <token>', "only this transfer's packets")
        .option('--reason <code>', 'only packets dead-lettered for this reason (e.g. sink, unknown-transfer)'),
    );
  selecting(dlq.command('list').description('show dead letters and why, leaving them in place'))
    .option('--limit <n>', 'show at most n (default 100)')
    .action(async (flags: DlqFlags) => done(await (await import('./dlq.js')).list(flags)));
  selecting(dlq.command('replay').description('put dead letters back into the group queue each came from (that group only)'))
    .option('--limit <n>', 'replay at most n')
    .action(async (flags: DlqFlags) => done(await (await import('./dlq.js')).replay(flags)));
  selecting(dlq.command('purge').description('delete dead letters for good'))
    .option('--limit <n>', 'delete at most n')
    .option('--yes', 'really delete (purge refuses without it)')
    .action(async (flags: DlqFlags) => {
      // Deleting is for good: a script must say so, and so must a person typing it.
      if (flags.yes !== true) throw new ConfigError('dlq purge deletes dead letters for good: add --yes');
      done(await (await import('./dlq.js')).purge(flags));
    });
  return program;
}
