/**
 * Test data: deterministic and incompressible, made from an AES-256-CTR keystream, so every run
 * moves the same bytes and a 4 GiB input is made at about 1 GB/s rather than kept anywhere.
 * Files go under the repo's git-ignored `.bench-tmp/` and are deleted after their size is done.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB, formatSize } from './lib.js';

export interface TestFile {
  size: number;
  path: string;
  sha256: string;
}

function keystream(seed: string): (out: Buffer) => void {
  const key = createHash('sha256').update(`filepeer-bench:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (out) => {
    out.fill(0);
    const n = cipher.update(out).copy(out);
    if (n !== out.length) throw new Error('keystream came short');
  };
}

/** Write `size` bytes of the keystream seeded by the size, 1 MiB at a time, and their SHA-256. */
export function generateFile(dir: string, size: number): TestFile {
  const path = join(dir, `input-${formatSize(size)}.bin`);
  const next = keystream(`file:${size}`);
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(MiB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(block.length, size - written);
      const piece = block.subarray(0, n);
      next(piece);
      hash.update(piece);
      for (let off = 0; off < n; ) off += writeSync(fd, piece, off, n - off);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, path, sha256: hash.digest('hex') };
}

export interface SmallFiles {
  dir: string;
  count: number;
  size: number;
  /** SHA-256 over every `<name> <sha256>\n`, names sorted: one value to compare a delivery with. */
  digest: string;
}

/** `count` files of `size` bytes each, named f00000.bin…, in `dir`. */
export async function generateSmallFiles(dir: string, count: number, size: number): Promise<SmallFiles> {
  await mkdir(dir, { recursive: true });
  const next = keystream(`small:${count}:${size}`);
  const lines: string[] = [];
  const data = Buffer.allocUnsafe(size);
  for (let i = 0; i < count; i++) {
    const name = `f${String(i).padStart(5, '0')}.bin`;
    next(data);
    const fd = openSync(join(dir, name), 'w');
    try {
      for (let off = 0; off < size; ) off += writeSync(fd, data, off, size - off);
    } finally {
      closeSync(fd);
    }
    lines.push(`${name} ${createHash('sha256').update(data).digest('hex')}\n`);
  }
  return { dir, count, size, digest: manifestDigest(lines) };
}

/** The digest of a set of `<name> <sha256>\n` lines, in name order. */
export function manifestDigest(lines: string[]): string {
  const hash = createHash('sha256');
  for (const line of [...lines].sort()) hash.update(line);
  return hash.digest('hex');
}
