/** Helpers shared by the benchmark harness (bench/run.ts) and its child roles. */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Parse `16KiB`, `1MiB`, `1GiB`, `64M`, `4096`… into bytes (binary units: K = KiB). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (try 16KiB, 1MiB, 1GiB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? KiB : unit === 'm' ? MiB : unit === 'g' ? GiB : 1;
  const bytes = Math.round(n * mult);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`not a positive size: ${text}`);
  return bytes;
}

/** `1GiB`, `64MiB`, `256KiB`, `100B`: the shortest exact binary spelling. */
export function formatSize(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes}B`;
}

/** `--name value` / `--name=value` flags of a child or of the harness. */
export function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        flags.set(arg.slice(2), 'true');
      } else {
        flags.set(arg.slice(2), next);
        i++;
      }
    }
  }
  return flags;
}

export function required(flags: Map<string, string>, name: string): string {
  const v = flags.get(name);
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

/** Every child role reports with JSON lines on stdout; this is their shape. */
export interface ChildReport {
  event: 'ready' | 'result';
  role: string;
  /** Peak resident set size, KiB (process.resourceUsage().maxRSS). */
  maxRssKiB?: number;
  [key: string]: unknown;
}

/** Print one report line (stdout belongs to the harness protocol; logs go to stderr). */
export function report(line: ChildReport): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function peakRssKiB(): number {
  return process.resourceUsage().maxRSS;
}

/** CPU seconds (user + system) this process used so far, startup included. */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Prefetch comparable to filepeer's receiver: its read-ahead (8 MiB) in chunks, at least 4. */
export function rawPrefetchFor(chunkSize: number, readAheadBytes: number): number {
  return Math.max(4, Math.floor(readAheadBytes / chunkSize));
}
