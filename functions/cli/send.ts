import { connectCli } from '../../shared/cli/connect.js';
import { ExitCode } from '../../shared/cli/exit.js';
import { formatBytes } from '../../shared/cli/format.js';
import { cliLogger, flushLogger } from '../../shared/cli/logger.js';
import { progressBar } from '../../shared/cli/progress.js';
import { openSendInput } from '../../shared/cli/send-input.js';
import { sendSettings, type SendFlags } from '../../shared/cli/settings.js';
import { metricsFromEnv } from '../../shared/metrics/index.js';
import { countBroadcast, countBroadcastFailure } from '../../shared/metrics/broadcast.js';
import { newToken } from '../../shared/protocol/token.js';

/** `filepeer send`: broadcast, print token, bytes and SHA-256. */
export async function send(source: string, flags: SendFlags): Promise<ExitCode> {
  const settings = await sendSettings(source, flags);
  // Chosen here rather than by the producer, so that every log line of this send carries it.
  const token = newToken();
  const logger = cliLogger(settings.logLevel, { domain: settings.domain, token });
  const metrics = metricsFromEnv(logger);
  try {
    const peer = await connectCli(settings, logger, { oneShot: false });
    try {
      const input = await openSendInput(settings.source, settings);
      const bar = settings.progress ? progressBar(process.stderr, input.size) : undefined;
      // Interrupted: give the terminal its cursor back (the bar hides it) and say what became of the
      // file; the receivers drop the partial transfer when it has been idle for their idle timeout.
      const interrupted = (signal: NodeJS.Signals): void => {
        bar?.stop();
        process.stderr.write(`filepeer: ${signal}: the send of ${token} was interrupted; receivers discard the partial file\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      const options = {
        domain: settings.domain,
        destination: settings.destination,
        meta: { ...settings.meta, ...input.meta },
        chunkSize: settings.chunkSize,
        contentType: input.contentType,
        token,
        onProgress: bar && ((bytes: number) => bar.update(bytes)),
      };
      const started = Date.now();
      let result;
      try {
        result = input.path !== undefined ? await peer.broadcastFile(input.path, options) : await peer.broadcastData(input.filename, input.stream, { ...options, size: input.size });
      } catch (err) {
        countBroadcastFailure(metrics, settings.domain, err);
        throw err;
      } finally {
        bar?.stop();
        input.close();
      }
      const durationMs = Date.now() - started;
      countBroadcast(metrics, result, durationMs);
      if (settings.json) {
        const { token: t, domain, destination, bytes, chunks, sha256 } = result;
        console.log(JSON.stringify({ token: t, domain, destination, bytes, chunks, sha256, durationMs }));
      } else {
        console.log(`sent ${result.destination} on ${result.domain}`);
        console.log(`token   ${result.token}`);
        console.log(`bytes   ${result.bytes} (${formatBytes(result.bytes)}, ${result.chunks} chunks, ${(durationMs / 1000).toFixed(1)} s)`);
        console.log(`sha256  ${result.sha256}`);
      }
      return ExitCode.Ok;
    } finally {
      await peer.close();
    }
  } finally {
    await flushLogger(logger);
  }
}
