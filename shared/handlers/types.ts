import type { Meta } from '../protocol/types.js';

/**
 * What a domain handler is given for each verified file, once per receiver group and file.
 * `bucket`/`key` are set for the S3 sink, `path` for the directory sink; `source` is where the
 * sender read the file (the upload bucket and key for S3-triggered broadcasts), when it said so.
 */
export interface DomainHandlerEvent {
  domain: string;
  group: string;
  token: string;
  filename: string;
  destination: string;
  bucket?: string;
  key?: string;
  path?: string;
  size: number;
  sha256: string;
  meta: Meta;
  source?: { bucket: string; key: string };
}

/** A function that handles a domain's files in-process (the local form of a handler Lambda). */
export type DomainHandler = (event: DomainHandlerEvent) => unknown;

/** Configuration: the first entry whose pattern matches the file's domain handles it. */
export type HandlerTarget =
  | { pattern: string; lambda: string }
  | { pattern: string; module: string; export?: string };
