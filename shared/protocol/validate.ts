import { InvalidDestinationError, InvalidDomainError, MalformedPacketError } from '../errors.js';
import { describe } from './describe.js';
import { MAX_DESTINATION_BYTES, MAX_DOMAIN_LENGTH, MAX_SEGMENT_BYTES } from './constants.js';

const WORD = /^[A-Za-z0-9_-]+$/;
const TOKEN = /^[0-9a-f]{32}$/;

/** A domain a sender may publish to: 1–N words of [A-Za-z0-9_-] separated by dots. */
export function assertDomain(domain: string): string {
  checkDomainShape(domain, false);
  return domain;
}

/** A domain a receiver may bind: like a domain, but a word may be the topic wildcards `*` or `#`. */
export function assertDomainPattern(pattern: string): string {
  checkDomainShape(pattern, true);
  return pattern;
}

function checkDomainShape(domain: string, allowWildcards: boolean): void {
  if (typeof domain !== 'string' || domain.length === 0) throw new InvalidDomainError(String(domain), 'empty');
  if (domain.length > MAX_DOMAIN_LENGTH) throw new InvalidDomainError(domain, `longer than ${MAX_DOMAIN_LENGTH} characters`);
  for (const word of domain.split('.')) {
    if (allowWildcards && (word === '*' || word === '#')) continue;
    if (!WORD.test(word)) {
      const why = word.includes('*') || word.includes('#')
        ? 'wildcards are for subscribers only'
        : `word ${JSON.stringify(word)} is not [A-Za-z0-9_-]+`;
      throw new InvalidDomainError(domain, why);
    }
  }
}

/**
 * A destination is a clean relative POSIX path: no absolute paths, no `.`/`..` segments,
 * no empty segments, no backslashes (a Windows receiver would read them as separators),
 * no NUL or other control characters, well-formed UTF-8. Checked by the sender before it
 * publishes and again by every receiver before it writes: the receiver never trusts the wire.
 */
export function assertDestination(destination: string): string {
  const fail = (reason: string): never => {
    throw new InvalidDestinationError(destination, reason);
  };
  if (typeof destination !== 'string' || destination.length === 0) fail('empty');
  if (!destination.isWellFormed()) fail('not well-formed Unicode');
  if (Buffer.byteLength(destination) > MAX_DESTINATION_BYTES) fail(`longer than ${MAX_DESTINATION_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(destination)) fail('contains a NUL or control character');
  if (destination.includes('\\')) fail('contains a backslash');
  if (destination.startsWith('/')) fail('is absolute');
  if (/^[A-Za-z]:/.test(destination)) fail('is a drive path');
  for (const segment of destination.split('/')) {
    if (segment === '') fail('has an empty segment');
    if (segment === '.' || segment === '..') fail(`has a ${JSON.stringify(segment)} segment`);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) fail(`has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return destination;
}

/** A filename is a destination of exactly one segment. */
export function assertFilename(filename: string): string {
  assertDestination(filename);
  if (filename.includes('/')) throw new InvalidDestinationError(filename, 'a filename has no directory part');
  return filename;
}

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

export function assertToken(value: unknown): string {
  if (!isToken(value)) throw new MalformedPacketError(`token ${describe(value)} is not 32 lower-case hex characters`);
  return value;
}
