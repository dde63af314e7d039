import { connectCli } from '../../shared/cli/connect.js';
import { ExitCode } from '../../shared/cli/exit.js';
import { formatBytes } from '../../shared/cli/format.js';
import { cliLogger, flushLogger } from '../../shared/cli/logger.js';
import { dlqSettings, type DlqFlags, type DlqSettings } from '../../shared/cli/settings.js';
import type { Filepeer } from '../../shared/peer.js';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from '../../shared/ops/dead-letters.js';
import type { DeadLetterInfo } from '../../shared/ops/dead-letter-info.js';

const LIST_LIMIT = 100;

/** `filepeer dlq list`: show dead letters and why, leaving them in place. */
export const list = (flags: DlqFlags): Promise<ExitCode> => withPeer(flags, showDeadLetters);
/** `filepeer dlq replay`: put dead letters back into the queue each came from. */
export const replay = (flags: DlqFlags): Promise<ExitCode> => withPeer(flags, replayAndReport);
/** `filepeer dlq purge --yes`: delete dead letters. */
export const purge = (flags: DlqFlags): Promise<ExitCode> => withPeer(flags, purgeAndReport);

async function withPeer(flags: DlqFlags, work: (peer: Filepeer, settings: DlqSettings) => Promise<void>): Promise<ExitCode> {
  const settings = await dlqSettings(flags);
  const logger = cliLogger(settings.logLevel, { group: settings.group });
  try {
    const peer = await connectCli(settings, logger, { oneShot: true });
    try {
      await work(peer, settings);
      return ExitCode.Ok;
    } finally {
      await peer.close();
    }
  } finally {
    await flushLogger(logger);
  }
}

async function showDeadLetters(peer: Filepeer, s: DlqSettings): Promise<void> {
  const listing = await listDeadLetters(peer.connection, s.group, s.filter, s.limit ?? LIST_LIMIT);
  if (s.json) {
    console.log(JSON.stringify(listing));
    return;
  }
  console.log(`${listing.queue}: ${listing.total} dead letter${listing.total === 1 ? '' : 's'}${listing.letters.length < listing.total ? `, ${listing.letters.length} shown` : ''}`);
  for (const l of listing.letters) console.log(describe(l));
}

function describe(l: DeadLetterInfo): string {
  const packet = `${l.type ?? 'packet'} ${l.token ?? '?'}:${l.seq ?? '?'} (${formatBytes(l.bytes)})`;
  const replays = l.replays > 0 ? `, replayed ${l.replays}x` : '';
  return `${l.reason}  ${packet} from ${l.queue ?? '?'} at ${l.at ?? '?'}${replays}\n    ${l.detail}`;
}

async function replayAndReport(peer: Filepeer, s: DlqSettings): Promise<void> {
  const result = await replayDeadLetters(peer.connection, peer.topology, s.group, s.filter, s.limit);
  if (s.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`replayed ${result.replayed}, left ${result.left} in the dead-letter queue`);
    for (const [queue, n] of Object.entries(result.byQueue)) console.log(`  ${n} to ${queue}`);
  }
  for (const p of result.problems) console.error(`filepeer: ${p}`);
}

async function purgeAndReport(peer: Filepeer, s: DlqSettings): Promise<void> {
  const result = await purgeDeadLetters(peer.connection, s.group, s.filter, s.limit);
  console.log(s.json ? JSON.stringify(result) : `purged ${result.purged}, left ${result.left}`);
}
