import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The test runner does not start node with --expose-gc; the flag can still be set at run time, and
// a fresh context then sees `gc`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * What this process holds after forced garbage collection: the JS heap plus "external" memory,
 * which is where Buffers live. A receiver's chunks are Buffers, so heapUsed alone would miss
 * exactly the memory an unreleased transfer holds.
 */
export async function retainedBytes(): Promise<number> {
  // Several rounds, yielding between them: a Buffer's backing store is freed by a callback after
  // the collection that found it dead, and objects kept alive by pending callbacks need a turn.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
