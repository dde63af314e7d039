import { connectCli } from '../../shared/cli/connect.js';
import { sinkFor } from '../../shared/cli/destination.js';
import { CommandHandler } from '../../shared/cli/exec-handler.js';
import { ExitCode } from '../../shared/cli/exit.js';
import { formatBytes } from '../../shared/cli/format.js';
import { cliLogger, flushLogger } from '../../shared/cli/logger.js';
import { receiveSettings, type ReceiveFlags } from '../../shared/cli/settings.js';
import type { ReceivedFile } from '../../shared/consumer/types.js';
import { metricsFromEnv } from '../../shared/metrics/index.js';
import { countDeliveries, countRun } from '../../shared/metrics/delivery.js';
import { runReceiver, type HandlerOutcome } from '../../shared/receiver/run.js';

/** `filepeer receive`: the long-running worker; one line per delivered file. */
export async function receive(flags: ReceiveFlags): Promise<ExitCode> {
  const settings = await receiveSettings(flags);
  // Not bound to the group: the subscription binds group and domain on its own lines (and a key
  // bound twice is printed twice by pino); the lines written here name the group themselves.
  const logger = cliLogger(settings.logLevel, {});
  const metrics = metricsFromEnv(logger);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": whatever the drain waits for (a hung --exec command) is given up.
    if (stop.signal.aborted) process.exit(130);
    logger.info({ group: settings.group, signal }, 'draining: no new deliveries, finishing the one in hand');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const peer = await connectCli(settings, logger, { oneShot: false });
    try {
      let delivered = 0;
      const print = (file: ReceivedFile, handled: HandlerOutcome): void => {
        console.log(settings.json ? JSON.stringify(deliveredRecord(file, handled)) : deliveredLine(file, handled));
        if (settings.once !== undefined && ++delivered >= settings.once) stop.abort();
      };
      if (!settings.json) console.error(`receiving ${settings.domains.join(', ')} as group ${settings.group} into ${settings.to}`);
      const started = Date.now();
      const report = await runReceiver(
        peer,
        {
          group: settings.group,
          domains: settings.domains,
          sink: sinkFor(settings.to, settings.s3Endpoint),
          handlers: settings.exec && new CommandHandler(settings.exec, logger, metrics),
          prefetch: settings.prefetch,
          onFile: countDeliveries(metrics, print),
        },
        { signal: stop.signal },
      );
      countRun(metrics, settings.group, report, Date.now() - started);
      logger.info({ group: settings.group, stoppedBy: report.stoppedBy, files: report.files }, 'drained');
      return ExitCode.Ok;
    } finally {
      await peer.close();
    }
  } finally {
    await flushLogger(logger);
  }
}

function whereOf(file: ReceivedFile): string {
  const l = file.location;
  return l.kind === 's3' ? `s3://${l.bucket}/${l.key}` : l.kind === 'directory' ? l.path : 'memory';
}

/** The --exec command's part of the line: nothing without --exec, else ok or why not. */
function execOf(handled: HandlerOutcome): { ok: boolean; error?: string } | undefined {
  if ('none' in handled) return undefined;
  return handled.ok ? { ok: true } : { ok: false, error: handled.error };
}

function deliveredRecord(file: ReceivedFile, handled: HandlerOutcome): Record<string, unknown> {
  const { token, group, domain, destination, size, sha256, meta } = file;
  return { event: 'delivered', token, group, domain, destination, size, sha256, meta, location: whereOf(file), exec: execOf(handled) };
}

function deliveredLine(file: ReceivedFile, handled: HandlerOutcome): string {
  const exec = execOf(handled);
  const tail = exec === undefined ? '' : exec.ok ? '  exec ok' : `  exec FAILED: ${exec.error}`;
  return `delivered ${file.destination} (${formatBytes(file.size)}) to ${whereOf(file)}  sha256 ${file.sha256}  token ${file.token}${tail}`;
}
