import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { FileNotFoundError } from '../errors.js';
import type { Meta } from '../protocol/types.js';
import { openS3Object } from './s3-source.js';
import { isS3Url } from './s3-url.js';

/** What `filepeer send <source>` reads: a file (broadcast from its path), an S3 object or stdin (streams). */
export type SendInput = {
  filename: string;
  /** Known for a file and an S3 object (the bar shows an ETA then), not for stdin. */
  size: number | undefined;
  contentType: string | undefined;
  meta: Meta;
  close(): void;
} & ({ path: string; stream?: undefined } | { path?: undefined; stream: Readable });

export async function openSendInput(source: string, options: { s3Endpoint: string | undefined; destination: string | undefined }): Promise<SendInput> {
  if (source === '-') {
    // Stdin has no name: the file is named after its destination (settings require --dest for it).
    return { filename: basename(options.destination ?? 'stdin'), stream: process.stdin, size: undefined, contentType: undefined, meta: {}, close: () => undefined };
  }
  if (isS3Url(source)) {
    const object = await openS3Object(source, options.s3Endpoint);
    return { filename: object.filename, stream: object.body, size: object.size, contentType: object.contentType, meta: object.meta, close: () => object.close() };
  }
  // broadcastFile stats again and refuses what is not a file; this one is for the bar's total.
  const info = await stat(source).catch((cause: unknown) => {
    throw new FileNotFoundError(source, { cause });
  });
  return { filename: basename(source), path: source, size: info.size, contentType: undefined, meta: {}, close: () => undefined };
}
