/**
 * Every error filepeer raises on purpose derives from FilepeerError, so callers can
 * tell ours from the platform's with one `instanceof`, read a stable `code` (also the
 * dead-letter reason on the wire) and know whether retrying could help.
 */
export class FilepeerError extends Error {
  /** Stable, machine-readable identifier; used as the dead-letter reason header. */
  readonly code: string = 'filepeer-error';
  /** True when the same operation may succeed if tried again (transient broker or S3 trouble). */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration or bad arguments from the caller. */
export class ConfigError extends FilepeerError {
  override readonly code = 'config';
}

/** broadcastFile() on a path that does not exist or is not a regular file (Nanite: "file not found"). */
export class FileNotFoundError extends FilepeerError {
  override readonly code = 'file-not-found';
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`file not found: ${path}`, options);
  }
}

/**
 * The S3 object an event names was overwritten since (its ETag no longer matches, HTTP 412): the
 * event's version is gone from an unversioned bucket, and the newer one has an event of its own.
 * Not retryable: no retry can read a version that no longer exists.
 */
export class ObjectSupersededError extends FilepeerError {
  override readonly code = 'object-superseded';
}

/** A packet that cannot be decoded: missing or wrong headers, bad JSON, wrong types. */
export class MalformedPacketError extends FilepeerError {
  override readonly code = 'malformed-packet';
}

/** A domain that is not 1–N dot-separated words of [A-Za-z0-9_-] (or a pattern where one is not allowed). */
export class InvalidDomainError extends FilepeerError {
  override readonly code = 'invalid-domain';
  constructor(readonly domain: string, reason: string) {
    super(`invalid domain ${JSON.stringify(domain)}: ${reason}`);
  }
}

/** A destination or filename that could escape the receiver's root, or is not a clean relative path. */
export class InvalidDestinationError extends FilepeerError {
  override readonly code = 'invalid-destination';
  constructor(readonly destination: string, reason: string) {
    super(`invalid destination ${JSON.stringify(destination)}: ${reason}`);
  }
}

/** A chunk, meta object or file larger than the limits allow. */
export class OversizeError extends FilepeerError {
  override readonly code = 'oversize';
}

/** A chunk or end packet for a transfer this receiver never saw start (or already forgot). */
export class UnknownTransferError extends FilepeerError {
  override readonly code = 'unknown-transfer';
  constructor(readonly token: string, kind: string) {
    super(`${kind} for unknown transfer ${token}`);
  }
}

/** Packets of a transfer arrived with a hole in the sequence: at least one packet was lost. */
export class ChunkGapError extends FilepeerError {
  override readonly code = 'chunk-gap';
  constructor(readonly token: string, readonly expected: number, readonly got: number) {
    super(`transfer ${token}: expected packet ${expected}, got ${got}`);
  }
}

/** Base of the checks made when a transfer ends: the receiver refuses to make the file visible. */
export class IntegrityError extends FilepeerError {
  override readonly code: string = 'integrity';
}

export class SizeMismatchError extends IntegrityError {
  override readonly code = 'size-mismatch';
}

export class ChunkCountMismatchError extends IntegrityError {
  override readonly code = 'chunk-count-mismatch';
}

export class DigestMismatchError extends IntegrityError {
  override readonly code = 'digest-mismatch';
  constructor(readonly token: string, readonly expected: string, readonly actual: string) {
    super(`transfer ${token}: digests do not match (sender ${expected}, received ${actual})`);
  }
}

/** No queue is bound for the routing key: nobody would have received the file. */
export class UnroutableError extends FilepeerError {
  override readonly code = 'unroutable';
  constructor(readonly exchange: string, readonly routingKey: string) {
    super(`no receiver is bound to ${JSON.stringify(routingKey)} on exchange ${JSON.stringify(exchange)}`);
  }
}

/** The broker refused (nacked) a publish. */
export class PublishNackedError extends FilepeerError {
  override readonly code = 'publish-nacked';
  override readonly retryable = true;
}

/** The broker did not confirm a publish in time (amqplib can stay silent after a network loss). */
export class ConfirmTimeoutError extends FilepeerError {
  override readonly code = 'confirm-timeout';
  override readonly retryable = true;
}

/** The connection or channel to the broker failed or closed under us. */
export class BrokerError extends FilepeerError {
  override readonly code = 'broker';
  override readonly retryable = true;
}

/** Writing to, committing or aborting in a sink failed. */
export class SinkError extends FilepeerError {
  override readonly code = 'sink';
  override readonly retryable = true;
}

/** A transfer went quiet for longer than the idle timeout and was abandoned. */
export class TransferAbandonedError extends FilepeerError {
  override readonly code = 'abandoned';
}

/** A domain handler ran and failed, or could not be invoked. */
export class HandlerError extends FilepeerError {
  override readonly code = 'handler-failed';
  override readonly retryable = true;
}

/** `filepeer dlq …` on a group whose dead-letter queue does not exist: no receiver of it ever subscribed. */
export class NoDeadLetterQueueError extends FilepeerError {
  override readonly code = 'no-dead-letter-queue';
  constructor(readonly group: string, readonly queue: string) {
    super(`group ${group} has no dead-letter queue ${queue}: no receiver of this group has subscribed yet`);
  }
}

/** The RabbitMQ management API (used by `filepeer status` when configured) answered with an error or not at all. */
export class ManagementApiError extends FilepeerError {
  override readonly code = 'management-api';
}

/** An error's message for a log line or a dead-letter header, whatever was thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The reason string written on a dead-lettered packet. */
export function reasonOf(err: unknown): string {
  return err instanceof FilepeerError ? err.code : 'internal-error';
}
