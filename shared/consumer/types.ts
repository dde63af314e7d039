import type { Logger } from '../log.js';
import type { Meta } from '../protocol/types.js';
import type { Location, Sink } from '../sinks/types.js';

/** What a receiver's callback is handed for each verified file. */
export type ReceivedFile<L extends Location = Location> = {
  token: string;
  group: string;
  domain: string;
  filename: string;
  destination: string;
  contentType: string;
  /** Bytes in the file (verified). */
  size: number;
  chunks: number;
  /** Lower-case hex SHA-256 (verified). */
  sha256: string;
  /** The sender's meta object. */
  meta: Meta;
  /** Where the file is: the data (memory sink), a path (directory sink) or a bucket and key (S3 sink). */
  location: L;
};

export type FileCallback<L extends Location = Location> = (file: ReceivedFile<L>) => void | Promise<void>;

export interface SubscribeOptions<L extends Location = Location> {
  /** Receiver group: every group receives every file; inside a group one consumer at a time does. */
  group: string;
  sink: Sink<L>;
  /** A transfer silent for this long is abandoned (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Bytes the broker may push ahead of processing (default 8 MiB); used where the prefetch can follow transfers. */
  readAheadBytes?: number;
  /**
   * A fixed per-consumer prefetch (messages). Unset: the prefetch follows the open transfers where the
   * broker allows a channel-wide prefetch (RabbitMQ before 4.3), else a fixed 32.
   */
  prefetch?: number;
  logger?: Logger;
}

export interface SubscriptionStats {
  filesDelivered: number;
  deadLettered: number;
  duplicatesDropped: number;
  transfersFailed: number;
  transfersAbandoned: number;
  /** Transfers taken over from persisted state (after a crash, a time budget, a fail-over). */
  transfersResumed: number;
  /** Times the broker channel was lost (connection closed or dropped) and bound again. */
  bindingsLost: number;
  inFlight: number;
}
