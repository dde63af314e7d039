import { mkdir, open, realpath, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Defaults } from '../config/defaults.js';
import { InvalidDestinationError, SinkError } from '../errors.js';
import { assertDestination } from '../protocol/validate.js';
import type { Location, Sink, SinkTarget, SinkWriter } from './types.js';

type DirectoryLocation = Extract<Location, { kind: 'directory' }>;

export interface DirectorySinkOptions {
  /** Files land under this directory, at their destination path. */
  root: string;
  /** fsync (and so acknowledge) at least every this many bytes. */
  syncBytes?: number;
}

/** Prefix of in-progress files; they are renamed to the destination once verified. */
export const TEMP_PREFIX = '.filepeer-' as const;

/**
 * Writes each transfer to a hidden temp file beside its destination, fsyncs it every
 * `syncBytes` (a chunk is acknowledged only once fsynced) and renames it into place after
 * verification, so a reader never sees a partial or unverified file.
 */
export class DirectorySink implements Sink<DirectoryLocation> {
  readonly kind = 'directory' as const;
  readonly root: string;
  private readonly syncBytes: number;

  constructor(options: DirectorySinkOptions) {
    this.root = resolve(options.root);
    this.syncBytes = options.syncBytes ?? Defaults.syncBytes;
  }

  async open(target: SinkTarget): Promise<SinkWriter<DirectoryLocation>> {
    const { destination, chunkSize } = target.start;
    const finalPath = await this.resolveInside(destination);
    const tempPath = join(dirname(finalPath), `${TEMP_PREFIX}${target.token}.part`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'w', 0o644);
    } catch (cause) {
      throw new SinkError(`cannot create ${tempPath}`, { cause });
    }
    return new DirectoryWriter(handle, tempPath, finalPath, this.syncBytes, Math.ceil(this.syncBytes / chunkSize));
  }

  /**
   * The absolute path for a destination, proven to stay under the root: lexically (no `..`),
   * and physically (a symlinked directory inside the root must not lead outside it).
   */
  private async resolveInside(destination: string): Promise<string> {
    assertDestination(destination);
    const finalPath = resolve(this.root, destination);
    if (!finalPath.startsWith(this.root + sep)) throw new InvalidDestinationError(destination, 'escapes the root');
    const parent = dirname(finalPath);
    try {
      await mkdir(parent, { recursive: true });
    } catch (cause) {
      throw new SinkError(`cannot create directory ${parent}`, { cause });
    }
    const [realRoot, realParent] = await Promise.all([realpath(this.root), realpath(parent)]);
    if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
      throw new InvalidDestinationError(destination, 'leads outside the root through a symbolic link');
    }
    return finalPath;
  }
}

class DirectoryWriter implements SinkWriter<DirectoryLocation> {
  private lastSeq = 0;
  private syncedSeq = 0;
  private unsynced = 0;
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly tempPath: string,
    private readonly finalPath: string,
    private readonly syncBytes: number,
    readonly holdChunks: number,
  ) {}

  async write(seq: number, data: Buffer): Promise<void> {
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    } catch (cause) {
      throw new SinkError(`cannot write ${this.tempPath}`, { cause });
    }
    this.lastSeq = seq;
    this.unsynced += data.length;
    if (this.unsynced >= this.syncBytes) await this.flush();
  }

  durableSeq(): number {
    return this.syncedSeq;
  }

  async flush(): Promise<void> {
    if (this.syncedSeq === this.lastSeq) return;
    try {
      await this.handle.sync();
    } catch (cause) {
      throw new SinkError(`cannot fsync ${this.tempPath}`, { cause });
    }
    this.syncedSeq = this.lastSeq;
    this.unsynced = 0;
  }

  async commit(): Promise<DirectoryLocation> {
    await this.flush();
    await this.close();
    try {
      await rename(this.tempPath, this.finalPath);
      await syncDirectory(dirname(this.finalPath));
    } catch (cause) {
      throw new SinkError(`cannot move ${this.tempPath} to ${this.finalPath}`, { cause });
    }
    return { kind: 'directory', path: this.finalPath };
  }

  async abort(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** fsync a directory so a rename in it survives a crash. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
