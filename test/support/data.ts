import { createHash } from 'node:crypto';

/** Deterministic pseudo-random bytes (xorshift32), so big test files need not sit in memory. */
export function* pseudoRandomBlocks(total: number, seed = 1, blockSize = 1 << 20): Generator<Buffer> {
  let x = seed >>> 0 || 1;
  let left = total;
  while (left > 0) {
    const n = Math.min(blockSize, left);
    const block = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block.writeUInt32LE(x >>> 0, i);
    }
    for (let i = n - (n % 4); i < n; i++) block[i] = i & 0xff;
    left -= n;
    yield block;
  }
}

export function pseudoRandomBuffer(total: number, seed = 1): Buffer {
  return Buffer.concat([...pseudoRandomBlocks(total, seed)]);
}

export function sha256Of(blocks: Iterable<Buffer> | Buffer): string {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(blocks)) hash.update(blocks);
  else for (const b of blocks) hash.update(b);
  return hash.digest('hex');
}
