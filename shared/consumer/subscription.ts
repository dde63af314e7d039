import type { ConsumeMessage } from 'amqplib';
import { Defaults } from '../config/defaults.js';
import { positiveInt } from '../config/env.js';
import { MalformedPacketError, TransferAbandonedError, UnknownTransferError, reasonOf, messageOf } from '../errors.js';
import { defaultLogger, type Logger } from '../log.js';
import { decodePacket } from '../protocol/codec.js';
import { Header, PacketKind } from '../protocol/constants.js';
import type { ChunkPacket, EndPacket, FileStart, Packet, StartPacket } from '../protocol/types.js';
import { assertDomainPattern, isToken } from '../protocol/validate.js';
import { assertGroup, deadLetterQueueName, domainOfRoutingKey, groupQueueName, type Topology } from '../broker/topology.js';
import type { BrokerConnection } from '../broker/connect.js';
import type { Location, Sink } from '../sinks/types.js';
import type { PersistedTransfer } from '../sinks/state.js';
import { Binding } from './binding.js';
import { sweepStaleTransfers } from './sweep.js';
import { Reassembler } from './reassembler.js';
import { RecentTokens } from './recent.js';
import { OpenTransfer } from './transfer.js';
import { DEFAULT_FIXED_PREFETCH, IDLE_PREFETCH, prefetchFor } from './prefetch.js';
import type { FileCallback, SubscribeOptions, SubscriptionStats } from './types.js';

/**
 * One receiver group's subscription to a domain pattern: the consumer core.
 *
 * Deliveries are processed one at a time in arrival order (a file's packets are in order in the
 * queue). A chunk is acked once the sink says its bytes are durable; the channel's prefetch is
 * resized as transfers open and close so that the broker may deliver what the sinks must hold
 * (an S3 part) plus a read-ahead, and no more: memory is bounded by prefetch, not by file size.
 *
 * The broker side lives in a Binding (channels and consumer). When it dies — the connection went,
 * the broker closed a channel — every unacked delivery is back in the queue: transfers a durable
 * sink can resume are suspended and resumed from their state when their packets come again on the
 * next binding (the crash path, which another process of the group would take too); the others
 * (memory sink) stay open and drop the copies of what they already hold.
 */
export class Subscription<L extends Location = Location> {
  readonly stats: SubscriptionStats = {
    filesDelivered: 0,
    deadLettered: 0,
    duplicatesDropped: 0,
    transfersFailed: 0,
    transfersAbandoned: 0,
    transfersResumed: 0,
    bindingsLost: 0,
    inFlight: 0,
  };
  private readonly transfers = new Map<string, OpenTransfer<L>>();
  private readonly finished: RecentTokens<true>;
  private readonly failed: RecentTokens<string>;
  private chain: Promise<void> = Promise.resolve();
  private prefetch: number;
  private unacked = 0;
  private binding: Binding | undefined;
  /** Which binding delivered a message: a delivery is acked on its own channel or not at all. */
  private readonly origin = new WeakMap<ConsumeMessage, Binding>();
  private closing = false;
  /** Deliveries received and not yet taken up by the chain. */
  private waiting = 0;
  private lastSweep = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleTimeoutMs: number;
  private readonly readAheadBytes: number;
  private readonly log: Logger;
  readonly queue: string;
  readonly deadLetterQueue: string;

  private constructor(
    private readonly broker: BrokerConnection,
    private readonly topology: Topology,
    readonly group: string,
    readonly pattern: string,
    private readonly sink: Sink<L>,
    private readonly callback: FileCallback<L>,
    options: SubscribeOptions<L>,
    /** True: channel-wide prefetch resized as transfers open and close. False: fixed per consumer. */
    private readonly dynamicPrefetch: boolean,
    prefetch: number,
  ) {
    this.prefetch = prefetch;
    this.queue = groupQueueName(group, pattern);
    this.deadLetterQueue = deadLetterQueueName(group);
    this.idleTimeoutMs = positiveInt('idleTimeoutMs', options.idleTimeoutMs, Defaults.idleTimeoutMs);
    this.readAheadBytes = positiveInt('readAheadBytes', options.readAheadBytes, Defaults.readAheadBytes);
    this.log = (options.logger ?? defaultLogger()).child({ group, domain: pattern, queue: this.queue });
    this.finished = new RecentTokens(Defaults.rememberedTransfers);
    this.failed = new RecentTokens(Defaults.rememberedTransfers);
    const sweepEvery = Math.max(50, Math.min(30_000, Math.floor(this.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.enqueue(() => this.abandonIdle()), sweepEvery);
    this.sweeper.unref();
  }

  static async open<L extends Location>(
    broker: BrokerConnection,
    topology: Topology,
    pattern: string,
    options: SubscribeOptions<L>,
    callback: FileCallback<L>,
    dynamicPrefetch: boolean,
  ): Promise<Subscription<L>> {
    assertDomainPattern(pattern);
    assertGroup(options.group);
    const dynamic = dynamicPrefetch && options.prefetch === undefined;
    const prefetch = dynamic ? IDLE_PREFETCH : positiveInt('prefetch', options.prefetch, DEFAULT_FIXED_PREFETCH);
    const sub = new Subscription(broker, topology, options.group, pattern, options.sink, callback, options, dynamic, prefetch);
    try {
      sub.binding = await sub.bind();
    } catch (err) {
      clearInterval(sub.sweeper);
      throw err;
    }
    sub.log.info('subscribed');
    return sub;
  }

  private bind(): Promise<Binding> {
    const spec = { topology: this.topology, group: this.group, pattern: this.pattern, prefetch: this.prefetch, dynamicPrefetch: this.dynamicPrefetch };
    return Binding.open(
      this.broker,
      spec,
      (msg, binding) => {
        this.origin.set(msg, binding);
        this.waiting++;
        this.enqueue(() => {
          this.waiting--;
          return this.handle(msg, binding);
        });
      },
      (binding, err) => this.onBindingDead(binding, err),
    );
  }

  /**
   * The channels died under us. Deliveries they made are back in the queue; let go of them (after
   * whatever is being processed now, which can no longer ack), then bind again — amqplib's recovery
   * reconnects with backoff if the connection went.
   */
  private onBindingDead(binding: Binding, err: Error | undefined): void {
    if (this.closing || binding !== this.binding) return;
    this.binding = undefined;
    this.stats.bindingsLost++;
    this.log.warn({ err: err?.message }, 'lost the broker channel: unacked deliveries return to the queue, binding again');
    this.enqueue(() => this.releaseAll());
    void this.rebind();
  }

  private async releaseAll(): Promise<void> {
    this.unacked = 0;
    for (const t of [...this.transfers.values()]) {
      t.takeAll();
      if (!this.sink.resumable) continue;
      this.forget(t);
      await t.writer.suspend();
      this.log.info({ token: t.token, durableSeq: t.writer.durableSeq() }, 'transfer suspended until its packets come again');
    }
  }

  private async rebind(): Promise<void> {
    for (let attempt = 1; !this.closing && this.broker.usable; attempt++) {
      try {
        // Waits while amqplib reconnects; the prefetch is where it was when the binding died.
        const binding = await this.bind();
        if (this.closing) {
          await binding.close();
          return;
        }
        this.binding = binding;
        // Time spent disconnected is not a transfer going silent.
        for (const t of this.transfers.values()) t.lastActivity = Date.now();
        this.log.info({ attempt }, 'bound again');
        return;
      } catch (err) {
        this.log.warn({ attempt, err: messageOf(err) }, 'cannot bind yet, retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /**
   * Stop consuming and let go: deliveries not yet processed and chunks not yet durable return to the
   * queue (unacked); open transfers keep their durable bytes and state, so this or another consumer
   * of the group resumes them. Nothing half-written is acked.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.sweeper);
    const binding = this.binding;
    await binding?.cancel();
    await this.chain;
    for (const t of this.transfers.values()) {
      this.log.info({ token: t.token, durableSeq: t.writer.durableSeq() }, 'transfer suspended, to be resumed');
      await t.writer.suspend();
    }
    this.transfers.clear();
    await binding?.close();
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.log.error({ err: messageOf(err) }, 'unexpected error in consumer');
    });
  }

  private async handle(msg: ConsumeMessage, binding: Binding): Promise<void> {
    // Closing: left unacked, the broker redelivers it to the group's next consumer. A dead
    // binding's deliveries are back in the queue already and come again on the next one.
    if (this.closing || !binding.live) return;
    let packet: Packet;
    try {
      packet = decodePacket(msg);
    } catch (err) {
      // An undecodable packet that names a transfer fails that transfer: an open one is aborted
      // (its partial data removed), a refused start is remembered so its chunks are dropped
      // rather than each dead-lettered.
      const token = (msg.properties.headers as Record<string, unknown> | undefined)?.[Header.Token];
      const open = isToken(token) ? this.transfers.get(token) : undefined;
      if (open) return this.failTransfer(open, msg, err);
      if (msg.properties.type === PacketKind.Start && isToken(token) && !this.finished.has(token)) {
        this.failed.set(token, reasonOf(err));
        this.stats.transfersFailed++;
      }
      await this.deadLetter(msg, err);
      return;
    }
    switch (packet.kind) {
      case PacketKind.Start:
        return this.onStart(msg, packet);
      case PacketKind.Chunk:
        return this.onChunk(msg, packet);
      case PacketKind.End:
        return this.onEnd(msg, packet);
    }
  }

  private async onStart(msg: ConsumeMessage, packet: StartPacket): Promise<void> {
    const { token, start } = packet;
    // A start for a token that failed here is a fresh attempt (a sender retrying with a token
    // derived from the same S3 object version); one for an open or finished transfer is a copy.
    const open = this.transfers.get(token);
    if (open || this.finished.has(token)) {
      // The start counts as chunk 1 for acking (see below).
      this.dropDuplicate(msg, open, 1);
      return;
    }
    try {
      if (domainOfRoutingKey(this.topology, msg.fields.routingKey) !== start.domain) {
        throw new MalformedPacketError(`start packet domain ${start.domain} does not match routing key ${msg.fields.routingKey}`);
      }
      // The sink may know this token: delivered before (a duplicated broadcast), or in progress
      // in another process that stopped (a redelivered start): resume it rather than start over.
      const persisted = await this.lookup(token, msg);
      if (persisted === 'done') return;
      const t = await this.openTransfer(token, start, persisted);
      // The start is acked with the first durable chunk: until then nothing is recorded that
      // would let another consumer resume, so a crash must bring the start back.
      this.hold(t, 1, msg);
      this.ackDurable(t);
    } catch (err) {
      this.failed.set(token, reasonOf(err));
      this.stats.transfersFailed++;
      await this.deadLetter(msg, err);
      return;
    }
    await this.resizePrefetch();
  }

  /**
   * What the sink persisted about `token`. A done-marker means the file was delivered to this group
   * before, possibly by another process: `msg` is then dropped as a duplicate and 'done' returned.
   */
  private async lookup(token: string, msg: ConsumeMessage): Promise<PersistedTransfer | 'done' | undefined> {
    const persisted = await this.sink.lookup(this.group, token);
    if (persisted?.phase !== 'done') return persisted;
    this.finished.set(token, true);
    this.dropDuplicate(msg);
    return 'done';
  }

  private async openTransfer(token: string, start: FileStart, persisted: PersistedTransfer | undefined): Promise<OpenTransfer<L>> {
    const resumeFrom = persisted && { seq: persisted.durableSeq, bytes: persisted.durableBytes };
    const reassembler = new Reassembler(token, start, undefined, resumeFrom);
    const writer = await this.sink.open({ token, group: this.group, start }, persisted);
    const t = new OpenTransfer(token, start, reassembler, writer);
    this.transfers.set(token, t);
    this.stats.inFlight = this.transfers.size;
    if (resumeFrom && resumeFrom.seq > 0) {
      this.stats.transfersResumed++;
      this.log.info({ token, durableSeq: resumeFrom.seq, durableBytes: resumeFrom.bytes }, 'transfer resumed');
    } else {
      this.log.debug({ token, filename: start.filename, size: start.size }, 'transfer started');
    }
    return t;
  }

  private async onChunk(msg: ConsumeMessage, packet: ChunkPacket): Promise<void> {
    const t = this.transfers.get(packet.token);
    if (!t) return this.orphan(msg, packet);
    try {
      if (t.reassembler.acceptChunk(packet.seq, packet.data) === 'duplicate') {
        this.dropDuplicate(msg, t, packet.seq);
        return;
      }
      await t.writer.write(packet.seq, packet.data);
    } catch (err) {
      await this.failTransfer(t, msg, err);
      return;
    }
    this.hold(t, packet.seq, msg);
    this.ackDurable(t);
    // Near the prefetch limit the broker stops delivering: make durable what can be, or stall.
    if (this.unacked * 4 >= this.prefetch * 3) await this.relievePressure();
  }

  private async onEnd(msg: ConsumeMessage, packet: EndPacket): Promise<void> {
    const t = this.transfers.get(packet.token);
    if (!t) return this.orphan(msg, packet);
    let location: L;
    let sha256: string;
    try {
      sha256 = t.reassembler.finish(packet.seq, packet.end);
      const recheck = t.reassembler.digestLost ? { recheckSha256: sha256 } : {};
      location = await t.writer.commit(packet.end, recheck);
    } catch (err) {
      await this.failTransfer(t, msg, err);
      return;
    }
    this.forget(t);
    this.finished.set(t.token, true);
    this.release(t.takeAll());
    const { start } = t;
    try {
      await this.callback({
        token: t.token,
        group: this.group,
        domain: start.domain,
        filename: start.filename,
        destination: start.destination,
        contentType: start.contentType,
        size: t.reassembler.receivedBytes,
        chunks: t.reassembler.receivedChunks,
        sha256,
        meta: packet.end.meta,
        location,
      });
    } catch (err) {
      this.log.error({ token: t.token, err: messageOf(err) }, 'file callback failed');
    }
    // Recorded before the end is acked: the same file broadcast again, or this end redelivered
    // to another process, is then recognised and its handler not run twice.
    await t.writer.markDone().catch((err: unknown) => {
      this.log.error({ token: t.token, err: messageOf(err) }, 'cannot record the transfer as done');
    });
    this.ack(msg);
    this.stats.filesDelivered++;
    this.log.info({ token: t.token, destination: start.destination, bytes: t.reassembler.receivedBytes, sha256 }, 'file delivered');
    await this.resizePrefetch();
  }

  /** A chunk or end whose transfer is not open here: a late duplicate, the tail of a failed one, or unknown. */
  private async orphan(msg: ConsumeMessage, packet: ChunkPacket | EndPacket): Promise<void> {
    if (this.finished.has(packet.token)) {
      this.dropDuplicate(msg);
    } else if (this.failed.has(packet.token)) {
      // The packet that failed the transfer was dead-lettered with the reason; the rest are dropped.
      this.ack(msg);
    } else {
      // Another process of the group may have started it and stopped (crash, time budget, fail-over):
      // its sink state lets this one take over where the durable bytes end.
      try {
        const persisted = await this.lookup(packet.token, msg);
        if (persisted === 'done') return;
        if (persisted) {
          await this.openTransfer(packet.token, persisted.start, persisted);
          await this.resizePrefetch();
          return packet.kind === PacketKind.Chunk ? this.onChunk(msg, packet) : this.onEnd(msg, packet);
        }
      } catch (err) {
        this.failed.set(packet.token, reasonOf(err));
        await this.deadLetter(msg, err);
        return;
      }
      // Only the first packet of an unknown transfer is dead-lettered: the rest of a file whose start
      // this receiver never saw could be gigabytes.
      this.failed.set(packet.token, 'unknown-transfer');
      await this.deadLetter(msg, new UnknownTransferError(packet.token, packet.kind));
    }
  }

  private async failTransfer(t: OpenTransfer<L>, msg: ConsumeMessage, err: unknown): Promise<void> {
    this.forget(t);
    this.failed.set(t.token, reasonOf(err));
    await t.writer.abort();
    this.release(t.takeAll());
    this.stats.transfersFailed++;
    this.log.warn({ token: t.token, reason: reasonOf(err), err: messageOf(err) }, 'transfer failed');
    await this.deadLetter(msg, err);
    await this.resizePrefetch();
  }

  private forget(t: OpenTransfer<L>): void {
    this.transfers.delete(t.token);
    this.stats.inFlight = this.transfers.size;
  }

  /**
   * A copy of a packet already taken. Acked at once, unless its transfer `t` is open and the copy's
   * `seq` is not durable yet: the original may be a delivery of a binding that died, so this copy
   * is all the queue still has of it; it is held and acked with the original's bytes.
   */
  private dropDuplicate(msg: ConsumeMessage, t?: OpenTransfer<L>, seq?: number): void {
    this.stats.duplicatesDropped++;
    if (t && seq !== undefined && seq > t.writer.durableSeq()) this.hold(t, seq, msg);
    else this.ack(msg);
  }

  private ack(msg: ConsumeMessage): void {
    this.origin.get(msg)?.ack(msg);
  }

  private async deadLetter(msg: ConsumeMessage, err: unknown): Promise<void> {
    const binding = this.origin.get(msg);
    // Its binding died: the packet is back in the queue and is judged again when it comes.
    if (!binding?.live) return;
    this.stats.deadLettered++;
    this.log.warn(
      { reason: reasonOf(err), err: messageOf(err), messageId: msg.properties.messageId },
      'packet dead-lettered',
    );
    try {
      await binding.deadLetterer.send(msg, err);
      binding.ack(msg);
    } catch (cause) {
      // Could not publish with a reason: reject, and the queue's own dead-letter exchange takes it.
      this.log.error({ err: messageOf(cause) }, 'dead-letter publish failed, rejecting');
      binding.nack(msg);
    }
  }

  private hold(t: OpenTransfer<L>, seq: number, msg: ConsumeMessage): void {
    t.hold(seq, msg);
    this.unacked++;
  }

  /** Ack deliveries a transfer no longer holds. */
  private release(msgs: readonly ConsumeMessage[]): void {
    for (const msg of msgs) this.ack(msg);
    this.unacked = Math.max(0, this.unacked - msgs.length);
  }

  /** Ack, in order, what the sink now reports durable. */
  private ackDurable(t: OpenTransfer<L>): void {
    this.release(t.takeDurable());
  }

  /**
   * Flush the transfers holding the most unacked chunks until half the prefetch is free again.
   * A sink's flush always makes its bytes durable (fsync; an S3 part or a staged fragment), so
   * the consumer can never wait forever for deliveries the prefetch no longer allows.
   */
  private async relievePressure(): Promise<void> {
    const heaviest = [...this.transfers.values()].sort((a, b) => b.held - a.held);
    for (const t of heaviest) {
      if (this.unacked * 2 < this.prefetch || t.held === 0) return;
      try {
        await t.writer.flush();
      } catch (err) {
        const last = t.takeLast();
        if (last) {
          this.unacked--;
          await this.failTransfer(t, last, err);
        }
        continue;
      }
      this.ackDurable(t);
    }
  }

  /** Let the broker deliver what open transfers must hold unacked, plus a read-ahead. */
  private async resizePrefetch(): Promise<void> {
    if (!this.dynamicPrefetch) return;
    const wanted = prefetchFor(this.transfers.values(), this.readAheadBytes);
    if (wanted === this.prefetch) return;
    this.prefetch = wanted;
    await this.binding?.resizePrefetch(wanted).catch((err: unknown) => {
      this.log.warn({ err: messageOf(err) }, 'cannot resize the prefetch');
    });
  }

  private async abandonIdle(): Promise<void> {
    const now = Date.now();
    for (const t of [...this.transfers.values()]) {
      if (now - t.lastActivity < this.idleTimeoutMs) continue;
      this.forget(t);
      this.failed.set(t.token, 'abandoned');
      await t.writer.abort();
      this.release(t.takeAll());
      // Counted once the partial data is gone: the count says "cleaned up", not "about to be".
      this.stats.transfersAbandoned++;
      const err = new TransferAbandonedError(`transfer ${t.token} had no packet for ${this.idleTimeoutMs} ms`);
      this.log.warn({ token: t.token, bytes: t.reassembler.receivedBytes, reason: err.code }, err.message);
    }
    if (this.transfers.size === 0) await this.resizePrefetch();
    await this.sweepStale();
  }

  /** At most once per idle timeout, remove persisted transfers nobody will finish (see sweep.ts). */
  private async sweepStale(): Promise<void> {
    const binding = this.binding;
    const now = Date.now();
    if (!binding?.live || !this.sink.resumable || now - this.lastSweep < this.idleTimeoutMs) return;
    this.lastSweep = now;
    const removed = await sweepStaleTransfers({
      binding,
      sink: this.sink,
      group: this.group,
      pattern: this.pattern,
      idleTimeoutMs: this.idleTimeoutMs,
      isOpen: (token) => this.transfers.has(token),
      deliveriesWaiting: () => this.waiting,
      log: this.log,
    });
    for (const token of removed) {
      this.failed.set(token, 'abandoned');
      this.stats.transfersAbandoned++;
    }
  }
}
