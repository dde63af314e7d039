import { Defaults } from '../config/defaults.js';
import { OversizeError } from '../errors.js';
import { assertDestination } from '../protocol/validate.js';
import type { PersistedTransfer } from './state.js';
import type { Location, Sink, SinkTarget, SinkWriter } from './types.js';

type MemoryLocation = Extract<Location, { kind: 'memory' }>;

/**
 * Nanite's in-memory mode: the file is handed to the callback as one Buffer. Chunks are
 * acknowledged on arrival (memory is not durable, so a crash loses the partial file), and files
 * over `maxBytes` are refused so one large broadcast cannot exhaust the heap.
 */
export class MemorySink implements Sink<MemoryLocation> {
  readonly kind = 'memory' as const;
  /** Nothing outlives the process: a transfer in memory is never resumed elsewhere. */
  readonly resumable = false;
  readonly maxBytes: number;

  constructor(options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? Defaults.memoryMaxBytes;
  }

  /** Memory keeps nothing across processes. */
  async lookup(): Promise<undefined> {
    return undefined;
  }

  async stale(): Promise<PersistedTransfer[]> {
    return [];
  }

  async open(target: SinkTarget): Promise<SinkWriter<MemoryLocation>> {
    assertDestination(target.start.destination);
    if (target.start.size !== null && target.start.size > this.maxBytes) {
      throw new OversizeError(`file of ${target.start.size} bytes exceeds the memory sink's limit of ${this.maxBytes}`);
    }
    return new MemoryWriter(this.maxBytes);
  }
}

class MemoryWriter implements SinkWriter<MemoryLocation> {
  readonly holdChunks = 0;
  private parts: Buffer[] = [];
  private bytes = 0;
  private lastSeq = 0;

  constructor(private readonly maxBytes: number) {}

  async write(seq: number, data: Buffer): Promise<void> {
    this.bytes += data.length;
    if (this.bytes > this.maxBytes) throw new OversizeError(`file exceeds the memory sink's limit of ${this.maxBytes} bytes`);
    this.parts.push(data);
    this.lastSeq = seq;
  }

  durableSeq(): number {
    return this.lastSeq;
  }

  async flush(): Promise<void> {}

  async commit(): Promise<MemoryLocation> {
    const data = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    return { kind: 'memory', data };
  }

  async markDone(): Promise<void> {}

  /** Nothing of a partial file in memory survives; another process starts it over. */
  async suspend(): Promise<void> {
    this.parts = [];
  }

  async abort(): Promise<void> {
    this.parts = [];
  }
}
