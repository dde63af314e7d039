import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** What a delivered copy turned out to be, read back from where it was delivered. */
export interface Digest {
  size: number;
  sha256: string;
}

/** Stream a file through SHA-256 (a 500 MiB copy never sits in memory); undefined if it is not there. */
export async function digestFile(path: string): Promise<Digest | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  return { size: info.size, sha256: hash.digest('hex') };
}

/** Stream an object through SHA-256; undefined if there is no such (visible) object. */
export async function digestObject(client: S3Client, bucket: string, key: string): Promise<Digest | undefined> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((err: { name?: string }) => {
    if (err.name === 'NoSuchKey') return undefined;
    throw err;
  });
  if (!out) return undefined;
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of out.Body as AsyncIterable<Uint8Array>) {
    hash.update(piece);
    size += piece.length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (err: { name?: string }) => {
      if (err.name === 'NotFound' || err.name === 'NoSuchKey') return false;
      throw err;
    },
  );
}

/** Every key under `prefix`, all pages. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Every file under `root`, as paths relative to it (hidden ones included: that is where leftovers hide). */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}
