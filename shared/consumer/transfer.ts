import type { ConsumeMessage } from 'amqplib';
import type { FileStart } from '../protocol/types.js';
import type { Location, SinkWriter } from '../sinks/types.js';
import type { Reassembler } from './reassembler.js';

const NOTHING: readonly ConsumeMessage[] = Object.freeze([]);

/**
 * A transfer open in this receiver: its state machine, its sink writer, and the deliveries it
 * holds unacknowledged until the sink reports their bytes durable.
 */
export class OpenTransfer<L extends Location = Location> {
  /** Delivered packets not yet acked, in sequence order (the start counts as seq 1). */
  private pending: Array<{ seq: number; msg: ConsumeMessage }> = [];
  lastActivity = Date.now();

  constructor(
    readonly token: string,
    readonly start: FileStart,
    readonly reassembler: Reassembler,
    readonly writer: SinkWriter<L>,
  ) {}

  get held(): number {
    return this.pending.length;
  }

  hold(seq: number, msg: ConsumeMessage): void {
    this.pending.push({ seq, msg });
    this.lastActivity = Date.now();
  }

  /** The held deliveries whose bytes are now durable, released in order. */
  takeDurable(): readonly ConsumeMessage[] {
    const durable = this.writer.durableSeq();
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.seq <= durable) n++;
    // Called for every chunk; most of the time nothing became durable: allocate nothing then.
    if (n === 0) return NOTHING;
    return this.pending.splice(0, n).map((p) => p.msg);
  }

  /** Every held delivery (the file is committed, or the transfer is given up). */
  takeAll(): ConsumeMessage[] {
    return this.pending.splice(0).map((p) => p.msg);
  }

  /** The most recent held delivery, to blame for a failure that has no packet of its own. */
  takeLast(): ConsumeMessage | undefined {
    return this.pending.pop()?.msg;
  }
}
