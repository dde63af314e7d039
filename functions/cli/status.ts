import { connectCli } from '../../shared/cli/connect.js';
import { sinkFor } from '../../shared/cli/destination.js';
import { ExitCode } from '../../shared/cli/exit.js';
import { formatAge, formatBytes } from '../../shared/cli/format.js';
import { cliLogger, flushLogger } from '../../shared/cli/logger.js';
import { statusSettings, type StatusFlags } from '../../shared/cli/settings.js';
import { gatherStatus, type GroupStatus, type StatusReport } from '../../shared/ops/status.js';

/** `filepeer status`: groups, queues, transfers in flight, dead letters. */
export async function status(flags: StatusFlags): Promise<ExitCode> {
  const settings = await statusSettings(flags);
  const logger = cliLogger(settings.logLevel, {});
  try {
    const peer = await connectCli(settings, logger, { oneShot: true });
    try {
      const report = await gatherStatus(peer.connection, {
        targets: settings.groups,
        sample: settings.sample,
        managementUrl: settings.managementUrl,
        amqpUrl: settings.amqpUrl,
        sinkFor: (to) => sinkFor(to, settings.s3Endpoint),
      });
      console.log(settings.json ? JSON.stringify(report) : render(report));
      return ExitCode.Ok;
    } finally {
      await peer.close();
    }
  } finally {
    await flushLogger(logger);
  }
}

function render(report: StatusReport): string {
  const lines: string[] = [];
  for (const g of report.groups) lines.push(...renderGroup(g, report.management));
  if (report.groups.length === 0) lines.push('no filepeer groups found');
  return lines.join('\n');
}

function renderGroup(g: GroupStatus, management: StatusReport['management']): string[] {
  const lines = [`group ${g.group}`];
  if (g.queues.length === 0) {
    lines.push(`  queues: unknown (name the domains with --domain${management === 'used' ? '' : ', or configure the management API'})`);
  }
  for (const q of g.queues) {
    if (!q.exists) {
      lines.push(`  queue ${q.queue}: not declared (no receiver of ${g.group} has subscribed to ${q.pattern})`);
      continue;
    }
    const unacked = q.unacked === undefined ? '' : `, ${q.unacked} unacked`;
    lines.push(`  queue ${q.queue}: ${q.messages} messages${unacked}, ${q.consumers} consumer${q.consumers === 1 ? '' : 's'}`);
  }
  const d = g.deadLetters;
  const reasons = Object.entries(d.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const sampled = d.sampled < d.messages ? ` in the first ${d.sampled}` : '';
  lines.push(`  dead letters ${d.queue}: ${d.exists ? d.messages : 'no queue'}${reasons ? ` (${reasons}${sampled})` : ''}`);
  if (g.inFlight === null) {
    lines.push('  in flight: unknown (give --to, where the group puts files: its transfer state is there)');
  } else {
    lines.push(`  in flight (state in ${g.inFlight.from}): ${g.inFlight.transfers.length}`);
    for (const t of g.inFlight.transfers) {
      const of = t.size === null ? '' : ` of ${formatBytes(t.size)}`;
      lines.push(`    ${t.token} ${t.domain} ${t.destination}: ${formatBytes(t.durableBytes)}${of} durable, updated ${formatAge(t.updatedAt)}`);
    }
  }
  return lines;
}
