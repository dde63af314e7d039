import { messageOf } from '../errors.js';
import type { Filepeer } from '../peer.js';
import type { Subscription } from '../consumer/subscription.js';
import type { ReceivedFile, SubscriptionStats } from '../consumer/types.js';
import { handlerEventOf, type HandlerRouter } from '../handlers/router.js';
import type { Location, Sink } from '../sinks/types.js';

/** One receiver group's work: its domains, where files go, who handles them. */
export interface ReceiverPlan {
  group: string;
  /** Domains or patterns to subscribe to (one queue each). */
  domains: readonly string[];
  sink: Sink;
  handlers?: HandlerRouter;
  prefetch?: number;
  idleTimeoutMs?: number;
  /** Told of each delivered file and what its handler returned (progress lines, the demo's summary). */
  onFile?: (file: ReceivedFile, handled: HandlerOutcome) => void;
}

export type HandlerOutcome = { ok: true; result: unknown } | { ok: false; error: string } | { ok: true; result: undefined; none: true };

/** When to stop: whichever comes first. */
export interface StopWhen {
  /** Aborted on SIGTERM/SIGINT (worker). */
  signal?: AbortSignal;
  /** Epoch ms: stop then. */
  deadline?: number;
  /** Asked as it goes (a Lambda context's remaining time less a margin): stop when it reaches 0. */
  remainingMs?: () => number;
  /** Stop after this long with no transfer open and nothing delivered (save Lambda time on an empty queue). */
  idleExitMs?: number;
}

export interface ReceiverReport {
  stoppedBy: 'signal' | 'deadline' | 'idle';
  files: number;
  stats: SubscriptionStats[];
}

const POLL_MS = 50;

/**
 * The consumer core shared by the receive Lambda, the ECS worker and the CLI: subscribe, deliver
 * and hand each file to its domain handler until told to stop, then drain — stop taking deliveries,
 * finish the one in hand, and leave unfinished transfers to resume in the next run or on another
 * consumer of the group (nothing half-written is acked).
 */
export async function runReceiver(peer: Filepeer, plan: ReceiverPlan, stop: StopWhen): Promise<ReceiverReport> {
  let files = 0;
  let lastActivity = Date.now();
  const onFile = async (file: ReceivedFile<Location>): Promise<void> => {
    lastActivity = Date.now();
    files++;
    let outcome: HandlerOutcome = { ok: true, result: undefined, none: true };
    if (plan.handlers) {
      try {
        outcome = { ok: true, result: await plan.handlers.dispatch(handlerEventOf(file)) };
      } catch (err) {
        outcome = { ok: false, error: messageOf(err) };
        peer.logger.error({ token: file.token, domain: file.domain, group: file.group, err: outcome.error }, 'domain handler failed');
      }
    }
    plan.onFile?.(file, outcome);
  };
  const subs: Subscription[] = [];
  try {
    for (const domain of plan.domains) {
      subs.push(
        await peer.subscribeToFiles(domain, { group: plan.group, sink: plan.sink, prefetch: plan.prefetch, idleTimeoutMs: plan.idleTimeoutMs }, onFile),
      );
    }
    const stoppedBy = await waitForStop(stop, () => {
      if (subs.some((s) => s.stats.inFlight > 0)) lastActivity = Date.now();
      return lastActivity;
    });
    return { stoppedBy, files, stats: subs.map((s) => ({ ...s.stats })) };
  } finally {
    await Promise.all(subs.map((s) => s.close()));
  }
}

function waitForStop(stop: StopWhen, lastActivity: () => number): Promise<ReceiverReport['stoppedBy']> {
  return new Promise((resolve) => {
    const done = (why: ReceiverReport['stoppedBy']): void => {
      clearInterval(timer);
      stop.signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = (): void => done('signal');
    if (stop.signal?.aborted) return resolve('signal');
    stop.signal?.addEventListener('abort', onAbort);
    const timer = setInterval(() => {
      const now = Date.now();
      if ((stop.deadline !== undefined && now >= stop.deadline) || (stop.remainingMs !== undefined && stop.remainingMs() <= 0)) done('deadline');
      else if (stop.idleExitMs !== undefined && now - lastActivity() >= stop.idleExitMs) done('idle');
    }, POLL_MS);
  });
}
