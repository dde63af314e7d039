/**
 * Lambda run on a schedule: the long-poll consumer, time-boxed. It consumes until its remaining
 * time nears FILEPEER_RECEIVE_MARGIN_MS (or the queue has been idle for
 * FILEPEER_RECEIVE_IDLE_EXIT_MS), then stops taking deliveries and drains: unfinished transfers
 * keep their durable bytes and state and resume in the next run or on another consumer.
 */
import { requireReceiver, runtimeConfigFromEnv } from '../../shared/config/runtime.js';
import { connectFromConfig } from '../../shared/receiver/connect.js';
import { receiverPlanFromConfig } from '../../shared/receiver/from-config.js';
import { runReceiver, type ReceiverReport } from '../../shared/receiver/run.js';
import { metricsFromEnv } from '../../shared/metrics/index.js';
import { countDeliveries, countRun } from '../../shared/metrics/delivery.js';

/** The part of the Lambda context this handler uses. */
export interface TimeBudget {
  getRemainingTimeInMillis(): number;
}

export async function handler(_event: unknown, context: TimeBudget): Promise<ReceiverReport> {
  const config = requireReceiver(runtimeConfigFromEnv());
  const peer = await connectFromConfig(config);
  // CloudWatch EMF lines on stdout in Lambda: files, bytes, failed handlers, and what the run did.
  const metrics = metricsFromEnv(peer.logger);
  try {
    const plan = receiverPlanFromConfig(config);
    plan.onFile = countDeliveries(metrics, plan.onFile);
    const started = Date.now();
    const report = await runReceiver(peer, plan, {
      remainingMs: () => context.getRemainingTimeInMillis() - config.receiveMarginMs,
      idleExitMs: config.receiveIdleExitMs,
    });
    countRun(metrics, config.group, report, Date.now() - started);
    return report;
  } finally {
    await peer.close();
  }
}
