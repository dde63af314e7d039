/** Prefetch while no transfer is open: small, because the next chunks may be of any size. */
export const IDLE_PREFETCH = 4;
/** Per-consumer prefetch where the broker refuses a changing one (RabbitMQ 4.3+); see docs/DESIGN.md. */
export const DEFAULT_FIXED_PREFETCH = 32;
const MIN_READ_AHEAD = 4;
const MAX_PREFETCH = 65_535;

/**
 * The prefetch that lets the broker deliver what the open transfers' writers must hold unacked
 * (an S3 part's worth each) plus a read-ahead of `readAheadBytes` at the largest chunk size in flight.
 */
export function prefetchFor(open: Iterable<{ writer: { holdChunks: number }; start: { chunkSize: number } }>, readAheadBytes: number): number {
  let hold = 0;
  let largestChunk = 0;
  for (const t of open) {
    hold += t.writer.holdChunks;
    largestChunk = Math.max(largestChunk, t.start.chunkSize);
  }
  if (largestChunk === 0) return IDLE_PREFETCH;
  return Math.min(MAX_PREFETCH, hold + Math.max(MIN_READ_AHEAD, Math.floor(readAheadBytes / largestChunk)));
}
