import { ConfigError } from '../errors.js';

/**
 * Multipliers by suffix, as coreutils reads them (`head -c 1G` is 2^30): K/M/G/T and KiB… are
 * powers of 1024, KB/MB/GB/TB powers of 1000. Case-insensitive, so `1mib` is what was meant.
 */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** `1MiB`, `512KiB`, `4MB`, `1.5GiB`, `65536` → bytes; `what` names the option in the error. */
export function parseSize(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new ConfigError(`${what}: ${JSON.stringify(text)} is not a size (use e.g. 1MiB, 512KiB, 4MB or a number of bytes)`);
  }
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(`${what}: ${JSON.stringify(text)} is not a whole number of bytes`);
  return bytes;
}
