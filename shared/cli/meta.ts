import { ConfigError } from '../errors.js';
import type { Meta } from '../protocol/types.js';

/** `--meta k=v …` → `{ k: "v" }`. Values stay strings: what a shell passes is text. */
export function parseMeta(pairs: readonly string[]): Meta {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--meta ${JSON.stringify(pair)} is not key=value`);
    const key = pair.slice(0, eq);
    // Two values for one key is a mistake in a script, not something to resolve silently.
    if (Object.hasOwn(meta, key)) throw new ConfigError(`--meta ${key} is given twice`);
    meta[key] = pair.slice(eq + 1);
  }
  return meta;
}
