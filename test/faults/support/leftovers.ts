import type { S3Client } from '@aws-sdk/client-s3';
import type { DirectorySink } from '../../../shared/sinks/directory.js';
import type { S3Sink } from '../../../shared/sinks/s3.js';
import { listFiles, listKeys } from './read-back.js';

const STATE = /^\.filepeer\/state\/([^/]+)\/([0-9a-f]{32})\.json$/;

/**
 * Whether `path` (relative to the sink's root or prefix) is the done-marker of a delivered file:
 * asked of the sink itself, so a state document left in phase 'receiving' counts as a leftover.
 */
async function isDoneMarker(sink: DirectorySink | S3Sink, path: string): Promise<boolean> {
  const m = STATE.exec(path);
  if (!m) return false;
  const state = await sink.lookup(m[1]!, m[2]!).catch(() => undefined);
  return state?.phase === 'done';
}

/**
 * What a directory receiver left under its root beside `expected` (relative paths) and the
 * done-markers of delivered files: temp files, unfinished state, files nobody should see.
 */
export async function directoryLeftovers(sink: DirectorySink, expected: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listFiles(sink.root)) {
    if (!expected.includes(f) && !(await isDoneMarker(sink, f))) out.push(f);
  }
  return out;
}

/** The same for an S3 receiver, under its prefix: staged fragments and unfinished state included. */
export async function s3Leftovers(sink: S3Sink, client: S3Client, expected: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const key of await listKeys(client, sink.bucket, sink.prefix)) {
    const rel = key.slice(sink.prefix.length);
    if (!expected.includes(rel) && !(await isDoneMarker(sink, rel))) out.push(key);
  }
  return out;
}
