/**
 * The long-running consumer, for an ECS task or a shell: `node --import tsx functions/worker/main.ts`
 * (or the bundled `worker.js`) with FILEPEER_GROUP, FILEPEER_DOMAINS and FILEPEER_DEST_BUCKET or
 * FILEPEER_DEST_DIR set. Runs until SIGTERM or SIGINT, then drains like the receive Lambda.
 * Exit codes: 0 after a clean drain, 2 for bad configuration, 1 for anything else.
 */
import { ConfigError, messageOf } from '../../shared/errors.js';
import { requireReceiver, runtimeConfigFromEnv } from '../../shared/config/runtime.js';
import { connectFromConfig } from '../../shared/receiver/connect.js';
import { receiverPlanFromConfig } from '../../shared/receiver/from-config.js';
import { runReceiver } from '../../shared/receiver/run.js';
import { metricsFromEnv } from '../../shared/metrics/index.js';
import { countDeliveries, countRun } from '../../shared/metrics/delivery.js';

async function main(): Promise<void> {
  const config = requireReceiver(runtimeConfigFromEnv());
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  const peer = await connectFromConfig(config);
  try {
    const plan = receiverPlanFromConfig(config);
    const metrics = metricsFromEnv(peer.logger);
    plan.onFile = countDeliveries(metrics, (file, handled) => {
      const where = file.location.kind === 's3' ? `s3://${file.location.bucket}/${file.location.key}` : file.location.kind === 'directory' ? file.location.path : 'memory';
      console.log(JSON.stringify({ delivered: file.destination, domain: file.domain, group: file.group, size: file.size, sha256: file.sha256, where, handler: handled }));
    });
    peer.logger.info({ group: config.group, domains: config.domains }, 'worker started');
    const started = Date.now();
    const report = await runReceiver(peer, plan, { signal: stop.signal });
    countRun(metrics, config.group, report, Date.now() - started);
    peer.logger.info({ group: config.group, stoppedBy: report.stoppedBy, files: report.files }, 'worker drained');
  } finally {
    await peer.close();
  }
}

main().catch((err: unknown) => {
  // One line, whatever the message: OpenSSL's end in a newline (`…SSL alert number 116\n`), and a
  // log collector (CloudWatch, journald) would split the reason from the rest of the sentence.
  console.error(`worker: ${messageOf(err).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
