import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../../shared/errors.js';
import {
  BrokerError,
  ChunkCountMismatchError,
  ChunkGapError,
  ConfigError,
  ConfirmTimeoutError,
  DigestMismatchError,
  FileNotFoundError,
  FilepeerError,
  IntegrityError,
  InvalidDestinationError,
  InvalidDomainError,
  MalformedPacketError,
  ObjectSupersededError,
  OversizeError,
  PublishNackedError,
  SinkError,
  SizeMismatchError,
  TransferAbandonedError,
  HandlerError,
  ManagementApiError,
  NoDeadLetterQueueError,
  UnknownTransferError,
  UnroutableError,
  reasonOf,
} from '../../shared/errors.js';
import { TOKEN } from './helpers.js';

const cause = new Error('root cause');

/** One instance of every error class, built the way the library builds it. */
const instances: FilepeerError[] = [
  new FilepeerError('base', { cause }),
  new ConfigError('bad option', { cause }),
  new FileNotFoundError('/no/such/file', { cause }),
  new MalformedPacketError('bad packet', { cause }),
  new InvalidDomainError('a..b', 'empty word'),
  new InvalidDestinationError('../x', 'escapes'),
  new OversizeError('too big', { cause }),
  new UnknownTransferError(TOKEN, 'file.chunk'),
  new ChunkGapError(TOKEN, 2, 4),
  new IntegrityError('integrity', { cause }),
  new SizeMismatchError('size', { cause }),
  new ChunkCountMismatchError('count', { cause }),
  new DigestMismatchError(TOKEN, 'a'.repeat(64), 'b'.repeat(64)),
  new UnroutableError('file broadcast', 'nanite.filepeer.global'),
  new PublishNackedError('nack', { cause }),
  new ConfirmTimeoutError('timeout', { cause }),
  new BrokerError('broker', { cause }),
  new SinkError('sink', { cause }),
  new ObjectSupersededError('superseded', { cause }),
  new TransferAbandonedError('idle', { cause }),
  new HandlerError('handler', { cause }),
  new NoDeadLetterQueueError('g', 'filepeer-dead-letter.g'),
  new ManagementApiError('management', { cause }),
];

/** Classes whose constructor takes `{ cause }`. */
const withCause = instances.filter((e) => ![
  InvalidDomainError, InvalidDestinationError, UnknownTransferError, ChunkGapError, DigestMismatchError, UnroutableError, NoDeadLetterQueueError,
].some((c) => e instanceof c));

const exportedClasses = Object.entries(errors).filter(
  (entry): entry is [string, typeof FilepeerError] =>
    typeof entry[1] === 'function' && (entry[1] === FilepeerError || entry[1].prototype instanceof FilepeerError),
);

describe('errors', () => {
  it('the table below covers every error class errors.ts exports', () => {
    const covered = new Set(instances.map((e) => e.constructor));
    const missing = exportedClasses.filter(([, cls]) => !covered.has(cls)).map(([name]) => name);
    assert.deepEqual(missing, []);
    assert.equal(instances.length, exportedClasses.length);
  });

  it('every class has its own code, a non-empty kebab-case string', () => {
    const codes = instances.map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length, `duplicate codes in ${codes.join(', ')}`);
    for (const code of codes) assert.match(code, /^[a-z]+(-[a-z]+)*$/);
  });

  it('the codes are the dead-letter reasons documented in docs/PROTOCOL.md', () => {
    assert.deepEqual(Object.fromEntries(instances.map((e) => [e.constructor.name, e.code])), {
      FilepeerError: 'filepeer-error',
      ConfigError: 'config',
      FileNotFoundError: 'file-not-found',
      MalformedPacketError: 'malformed-packet',
      InvalidDomainError: 'invalid-domain',
      InvalidDestinationError: 'invalid-destination',
      OversizeError: 'oversize',
      UnknownTransferError: 'unknown-transfer',
      ChunkGapError: 'chunk-gap',
      IntegrityError: 'integrity',
      SizeMismatchError: 'size-mismatch',
      ChunkCountMismatchError: 'chunk-count-mismatch',
      DigestMismatchError: 'digest-mismatch',
      UnroutableError: 'unroutable',
      PublishNackedError: 'publish-nacked',
      ConfirmTimeoutError: 'confirm-timeout',
      BrokerError: 'broker',
      SinkError: 'sink',
      ObjectSupersededError: 'object-superseded',
      TransferAbandonedError: 'abandoned',
      HandlerError: 'handler-failed',
      NoDeadLetterQueueError: 'no-dead-letter-queue',
      ManagementApiError: 'management-api',
    });
  });

  it('name equals the class name, and every instance is a FilepeerError and an Error', () => {
    for (const e of instances) {
      assert.equal(e.name, e.constructor.name);
      assert.ok(e instanceof FilepeerError);
      assert.ok(e instanceof Error);
      assert.match(String(e), new RegExp(`^${e.constructor.name}: `));
    }
  });

  it('keeps the cause it was given', () => {
    assert.ok(withCause.length >= 12);
    for (const e of withCause) assert.equal(e.cause, cause, e.name);
  });

  it('only broker, publish, sink and handler trouble is retryable', () => {
    const retryable = instances.filter((e) => e.retryable).map((e) => e.name).sort();
    assert.deepEqual(retryable, ['BrokerError', 'ConfirmTimeoutError', 'HandlerError', 'PublishNackedError', 'SinkError']);
  });

  it('the three end-of-transfer checks are IntegrityErrors', () => {
    for (const e of instances) {
      const expected = e instanceof SizeMismatchError || e instanceof ChunkCountMismatchError || e instanceof DigestMismatchError || e.constructor === IntegrityError;
      assert.equal(e instanceof IntegrityError, expected, e.name);
    }
  });

  it('errors with subjects keep them as fields and in the message', () => {
    const gap = new ChunkGapError(TOKEN, 2, 4);
    assert.deepEqual([gap.token, gap.expected, gap.got], [TOKEN, 2, 4]);
    assert.match(gap.message, /expected packet 2, got 4/);
    const digest = new DigestMismatchError(TOKEN, 'aa', 'bb');
    assert.deepEqual([digest.expected, digest.actual], ['aa', 'bb']);
    assert.equal(new InvalidDomainError('a..b', 'x').domain, 'a..b');
    assert.equal(new InvalidDestinationError('../x', 'x').destination, '../x');
    assert.equal(new FileNotFoundError('/p').path, '/p');
    const unroutable = new UnroutableError('ex', 'rk');
    assert.deepEqual([unroutable.exchange, unroutable.routingKey], ['ex', 'rk']);
    assert.equal(new UnknownTransferError(TOKEN, 'file.end').token, TOKEN);
  });

  it('reasonOf gives the code of a FilepeerError', () => {
    for (const e of instances) assert.equal(reasonOf(e), e.code);
  });

  it('reasonOf gives internal-error for anything else, even an object that carries a code', () => {
    for (const other of [new Error('x'), new TypeError('x'), new RangeError('x'), 'oversize', undefined, null, 42, { code: 'oversize' }]) {
      assert.equal(reasonOf(other), 'internal-error', String(other));
    }
  });
});
