import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { Defaults } from '../config/defaults.js';
import { DigestMismatchError, InvalidDestinationError, SinkError } from '../errors.js';
import { assertDestination } from '../protocol/validate.js';
import type { FileStart } from '../protocol/types.js';
import { encodeState, isStale, stateDecoder, stateDir, stateName, tokenOfStateName, type PersistedTransfer, type TransferPhase } from './state.js';
import type { CommitOptions, Location, Sink, SinkTarget, SinkWriter } from './types.js';

type DirectoryLocation = Extract<Location, { kind: 'directory' }>;

export interface DirectorySinkOptions {
  /** Files land under this directory, at their destination path. */
  root: string;
  /** fsync (and so acknowledge) at least every this many bytes. */
  syncBytes?: number;
}

/**
 * Small chunks are gathered and written with one writev once this many bytes wait (or at an fsync):
 * at 16 KiB a write per chunk cost more CPU than the rest of the receiver. Chunks of this size or
 * more are written one by one, as they come. Nothing written is durable before the fsync anyway.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Prefix of in-progress files; they are renamed to the destination once verified. */
export const TEMP_PREFIX = '.filepeer-' as const;

/**
 * Writes each transfer to a hidden temp file beside its destination, fsyncs it every
 * `syncBytes` (a chunk is acknowledged only once fsynced and recorded) and renames it into place
 * after verification, so a reader never sees a partial or unverified file. Transfer state lives
 * under `<root>/.filepeer/state/<group>/<token>.json`.
 */
export class DirectorySink implements Sink<DirectoryLocation> {
  readonly kind = 'directory' as const;
  readonly resumable = true;
  readonly root: string;
  private readonly syncBytes: number;

  constructor(options: DirectorySinkOptions) {
    this.root = resolve(options.root);
    this.syncBytes = options.syncBytes ?? Defaults.syncBytes;
  }

  async lookup(group: string, token: string): Promise<PersistedTransfer | undefined> {
    const path = join(this.root, stateName(group, token));
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new SinkError(`cannot read ${path}`, { cause: err });
    });
    if (!bytes) return undefined;
    const { decodeState, noSinkState } = await stateDecoder();
    return decodeState(bytes, path, noSinkState);
  }

  async stale(group: string, before: Date): Promise<PersistedTransfer[]> {
    const names = await readdir(join(this.root, stateDir(group))).catch(() => [] as string[]);
    const out: PersistedTransfer[] = [];
    for (const name of names) {
      const token = tokenOfStateName(name);
      // An unreadable state is left alone: it is reported when its transfer is looked up.
      const state = token && (await this.lookup(group, token).catch(() => undefined));
      if (state && isStale(state, before)) out.push(state);
    }
    return out;
  }

  async open(target: SinkTarget, resume?: PersistedTransfer): Promise<SinkWriter<DirectoryLocation>> {
    const { destination, chunkSize } = target.start;
    const finalPath = await this.resolveInside(destination);
    const tempPath = join(dirname(finalPath), `${TEMP_PREFIX}${target.token}.part`);
    const statePath = join(this.root, stateName(target.group, target.token));
    const paths = { tempPath, finalPath, statePath };
    // What the writer may hold unacked: a sync's worth, or, for a file known to be smaller, its
    // chunks and its start (held with chunk 1). A smaller hold keeps the receiver's prefetch, and
    // so its memory, down while many small files are open at once.
    const syncChunks = Math.ceil(this.syncBytes / chunkSize);
    const size = target.start.size;
    const hold = size === null ? syncChunks : Math.min(syncChunks, Math.ceil(size / chunkSize) + 1);
    if (resume && resume.phase !== 'receiving') {
      return new DirectoryWriter(undefined, paths, target, this.syncBytes, hold, resume);
    }
    let handle: FileHandle;
    try {
      // Resuming: keep the durable prefix, drop whatever was written after the last recorded fsync.
      handle = await open(tempPath, resume ? 'r+' : 'w', 0o644);
      if (resume) await handle.truncate(resume.durableBytes);
    } catch (cause) {
      throw new SinkError(`cannot ${resume ? 'reopen' : 'create'} ${tempPath}`, { cause });
    }
    return new DirectoryWriter(handle, paths, target, this.syncBytes, hold, resume);
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
      const [realRoot, realParent] = await Promise.all([realpath(this.root), realpath(parent)]);
      if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
        throw new InvalidDestinationError(destination, 'leads outside the root through a symbolic link');
      }
    } catch (cause) {
      if (cause instanceof InvalidDestinationError) throw cause;
      throw new SinkError(`cannot prepare directory ${parent}`, { cause });
    }
    return finalPath;
  }
}

interface Paths {
  tempPath: string;
  finalPath: string;
  statePath: string;
}

class DirectoryWriter implements SinkWriter<DirectoryLocation> {
  private lastSeq: number;
  private bytes: number;
  private syncedSeq: number;
  private syncedBytes: number;
  private unsynced = 0;
  private phase: TransferPhase;
  /** Chunks accepted but not yet written (fewer than WRITE_BATCH_BYTES), in order. */
  private batch: Buffer[] = [];
  private batchBytes = 0;

  constructor(
    private handle: FileHandle | undefined,
    private readonly paths: Paths,
    private readonly target: SinkTarget,
    private readonly syncBytes: number,
    readonly holdChunks: number,
    resume: PersistedTransfer | undefined,
  ) {
    this.lastSeq = this.syncedSeq = resume?.durableSeq ?? 0;
    this.bytes = this.syncedBytes = resume?.durableBytes ?? 0;
    this.phase = resume?.phase ?? 'receiving';
  }

  async write(seq: number, data: Buffer): Promise<void> {
    this.openHandle();
    this.batch.push(data);
    this.batchBytes += data.length;
    this.lastSeq = seq;
    this.bytes += data.length;
    this.unsynced += data.length;
    if (this.batchBytes >= WRITE_BATCH_BYTES) await this.writeBatch();
    if (this.unsynced >= this.syncBytes) await this.flush();
  }

  /** Write the gathered chunks at their place in the file (they end at `this.bytes`). */
  private async writeBatch(): Promise<void> {
    if (this.batchBytes === 0) return;
    const handle = this.openHandle();
    let pieces = this.batch;
    let position = this.bytes - this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    try {
      while (pieces.length > 0) {
        const { bytesWritten } = await handle.writev(pieces, position);
        position += bytesWritten;
        pieces = remainderAfter(pieces, bytesWritten);
      }
    } catch (cause) {
      throw new SinkError(`cannot write ${this.paths.tempPath}`, { cause });
    }
  }

  durableSeq(): number {
    return this.syncedSeq;
  }

  async flush(): Promise<void> {
    if (this.syncedSeq === this.lastSeq) return;
    await this.writeBatch();
    try {
      await this.openHandle().sync();
    } catch (cause) {
      throw new SinkError(`cannot fsync ${this.paths.tempPath}`, { cause });
    }
    await this.saveState('receiving', this.lastSeq, this.bytes);
    this.syncedSeq = this.lastSeq;
    this.syncedBytes = this.bytes;
    this.unsynced = 0;
  }

  async commit(_end: unknown, options: CommitOptions = {}): Promise<DirectoryLocation> {
    const { tempPath, finalPath } = this.paths;
    const location = { kind: 'directory', path: finalPath } as const;
    if (this.phase !== 'receiving') {
      // Resumed after the rename may already have happened: finish it, or check what is there.
      if (await exists(tempPath)) await rename(tempPath, finalPath);
      if (options.recheckSha256) await recheck(finalPath, options.recheckSha256, this.target.token);
      return location;
    }
    await this.writeBatch();
    try {
      if (this.syncedSeq !== this.lastSeq) await this.openHandle().sync();
    } catch (cause) {
      throw new SinkError(`cannot fsync ${tempPath}`, { cause });
    }
    this.syncedSeq = this.lastSeq;
    this.syncedBytes = this.bytes;
    await this.close();
    // Re-read before the rename: a resumed transfer's file is verified before anyone can see it.
    if (options.recheckSha256) await recheck(tempPath, options.recheckSha256, this.target.token);
    try {
      await this.saveState('committed', this.syncedSeq, this.syncedBytes);
      this.phase = 'committed';
      await rename(tempPath, finalPath);
      await syncDirectory(dirname(finalPath));
    } catch (cause) {
      throw new SinkError(`cannot move ${tempPath} to ${finalPath}`, { cause });
    }
    return location;
  }

  async markDone(): Promise<void> {
    await this.saveState('done', this.syncedSeq, this.syncedBytes);
    this.phase = 'done';
  }

  async suspend(): Promise<void> {
    await this.close().catch(() => undefined);
  }

  async abort(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.paths.tempPath).catch(() => undefined);
    await unlink(this.paths.statePath).catch(() => undefined);
  }

  private openHandle(): FileHandle {
    if (!this.handle) throw new SinkError(`transfer ${this.target.token} is no longer open for writing`);
    return this.handle;
  }

  private async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** Write the state next to nothing else: temp file, fsync, rename, so a crash leaves the old or the new. */
  private async saveState(phase: TransferPhase, durableSeq: number, durableBytes: number): Promise<void> {
    const { statePath } = this.paths;
    const state: PersistedTransfer<Record<string, never>> = {
      v: 1,
      token: this.target.token,
      group: this.target.group,
      phase,
      start: this.target.start satisfies FileStart,
      durableSeq,
      durableBytes,
      sink: {},
      updatedAt: new Date().toISOString(),
    };
    const temp = `${statePath}.tmp`;
    try {
      await mkdir(dirname(statePath), { recursive: true });
      const fh = await open(temp, 'w', 0o644);
      try {
        await fh.writeFile(encodeState(state));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, statePath);
    } catch (cause) {
      throw new SinkError(`cannot record transfer state at ${statePath}`, { cause });
    }
  }
}

/** What is left of `pieces` once their first `written` bytes are written (a short writev). */
function remainderAfter(pieces: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < pieces.length && skip >= pieces[i]!.length) skip -= pieces[i++]!.length;
  const rest = pieces.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Hash the file again and compare: used when a resumed transfer lost its running digest. */
async function recheck(path: string, expected: string, token: string): Promise<void> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  const actual = hash.digest('hex');
  if (actual !== expected) throw new DigestMismatchError(token, expected, actual);
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
