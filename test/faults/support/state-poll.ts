import type { Sink } from '../../../shared/sinks/types.js';
import type { PersistedTransfer } from '../../../shared/sinks/state.js';

/**
 * A sink's persisted state for a transfer that a live writer keeps rewriting, read for a poll: the
 * state, or undefined if it cannot be read within `ms`. s3rver rewrites an object in place, so a
 * GET racing the writer's next PUT can see a torn document (unreadable), or be sent a
 * Content-Length the truncated file then falls short of, and hang until s3rver's keep-alive timeout
 * (Node's 5 s) closes the socket: measured, one poll in about ten crash runs took 6.0 s, long
 * enough for the worker to make the whole 500 MiB durable meanwhile. AWS S3's PUT is atomic. For a
 * poll, either is just a look that saw nothing; the next one will see.
 */
export async function pollState(sink: Sink, group: string, token: string, ms = 1500): Promise<PersistedTransfer | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    // A lookup given up on finishes (or fails) on its own when s3rver closes the socket.
    return await Promise.race([sink.lookup(group, token).catch(() => undefined), giveUp]);
  } finally {
    clearTimeout(timer);
  }
}
