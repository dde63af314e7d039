import { createHash, randomBytes } from 'node:crypto';

/** 128 random bits as 32 hex characters, as Nanite's tokens. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A token derived from what identifies one version of an object, so that the same
 * S3 event delivered twice produces the same token and receivers recognise the copy.
 */
export function derivedToken(...parts: ReadonlyArray<string | number | null | undefined>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part ?? ''}\u0000`);
  return hash.digest('hex').slice(0, 32);
}
