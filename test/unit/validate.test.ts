import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidDestinationError, InvalidDomainError, MalformedPacketError } from '../../shared/errors.js';
import { MAX_DESTINATION_BYTES, MAX_DOMAIN_LENGTH, MAX_SEGMENT_BYTES } from '../../shared/protocol/constants.js';
import { derivedToken, newToken } from '../../shared/protocol/token.js';
import {
  assertDestination,
  assertDomain,
  assertDomainPattern,
  assertFilename,
  assertToken,
  isToken,
} from '../../shared/protocol/validate.js';

describe('validate: domains a sender may publish to', () => {
  for (const domain of ['global', 'a', 'finance.eu', 'A-b_9.c-D.e_F', '0.1.2.3', 'x'.repeat(MAX_DOMAIN_LENGTH)]) {
    it(`assertDomain accepts ${JSON.stringify(domain.length > 40 ? `${domain.slice(0, 10)}…(${domain.length})` : domain)} and returns it`, () => {
      assert.equal(assertDomain(domain), domain);
    });
  }

  const bad = ['', '.', 'a.', '.a', 'a..b', 'a b', 'a/b', 'é', 'a.b!', 'x'.repeat(MAX_DOMAIN_LENGTH + 1), 'a.\u0000'];
  for (const domain of bad) {
    it(`assertDomain rejects ${JSON.stringify(domain.length > 40 ? `${domain.slice(0, 10)}…(${domain.length})` : domain)} with InvalidDomainError`, () => {
      assert.throws(() => assertDomain(domain), InvalidDomainError);
    });
  }

  it('assertDomain rejects the wildcards * and # (senders may not publish patterns) and says why', () => {
    for (const domain of ['*', '#', 'a.*', '#.a', 'a.#.b', 'a*', 'b#']) {
      assert.throws(() => assertDomain(domain), (err: unknown) => {
        assert.ok(err instanceof InvalidDomainError);
        assert.equal(err.domain, domain);
        assert.match(err.message, /wildcards are for subscribers only/);
        return true;
      });
    }
  });

  it('assertDomain counts the length limit over the whole domain, dots included', () => {
    const ok = `${'abcd.'.repeat(39)}abcde`; // 200 characters
    assert.equal(ok.length, MAX_DOMAIN_LENGTH);
    assert.equal(assertDomain(ok), ok);
    assert.throws(() => assertDomain(`${ok}.f`), /longer than 200 characters/);
    assert.throws(() => assertDomainPattern(`${ok}.*`), /longer than 200 characters/);
  });
});

describe('validate: domain patterns a receiver may bind', () => {
  for (const pattern of ['global', '*', '#', 'a.*', '*.b', '#.b', 'a.#', 'a.#.c', '*.*', '#.#', 'a.*.c.#']) {
    it(`assertDomainPattern accepts ${JSON.stringify(pattern)}`, () => {
      assert.equal(assertDomainPattern(pattern), pattern);
    });
  }

  for (const pattern of ['', 'a*', '*a', 'a.b#', '**', '##', '*#', 'a..*', '*.', '.#', 'a .*']) {
    it(`assertDomainPattern rejects ${JSON.stringify(pattern)} with InvalidDomainError (a wildcard must be a whole word)`, () => {
      assert.throws(() => assertDomainPattern(pattern), InvalidDomainError);
    });
  }

  it('every domain a sender may use is also a valid pattern', () => {
    for (const domain of ['global', 'a.b', 'A-b_9.c']) assert.equal(assertDomainPattern(assertDomain(domain)), domain);
  });
});

describe('validate: destinations', () => {
  const good = [
    'a',
    'a/b/c.txt',
    'dir with spaces/ünïcødé 📄.txt',
    '.hidden',
    '..foo',
    'foo..',
    'a/.../b',
    'C',
    '1:2',
    'a/C:x',
    'x'.repeat(MAX_SEGMENT_BYTES),
  ];
  for (const destination of good) {
    it(`assertDestination accepts ${JSON.stringify(destination.length > 40 ? `${destination.slice(0, 10)}…` : destination)} and returns it`, () => {
      assert.equal(assertDestination(destination), destination);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['../x', /".." segment/],
    ['/etc/passwd', /absolute/],
    ['a/../../b', /".." segment/],
    ['a\u0000b', /NUL or control/],
    ['a\\b', /backslash/],
    ['C:x', /drive path/],
    ['c:/windows', /drive path/],
    ['\ud800', /well-formed/],
    ['a\udc00', /well-formed/],
    ['', /empty/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['./a', /"\." segment/],
    ['a/.', /"\." segment/],
    ['..', /".." segment/],
    ['a\tb', /control/],
    ['a\nb', /control/],
    ['a\u007fb', /control/],
    ['x'.repeat(MAX_SEGMENT_BYTES + 1), /segment longer than 255 bytes/],
  ];
  for (const [destination, why] of bad) {
    it(`assertDestination rejects ${JSON.stringify(destination.length > 40 ? `${destination.slice(0, 10)}…` : destination)} with InvalidDestinationError (${why.source})`, () => {
      assert.throws(() => assertDestination(destination), (err: unknown) => {
        assert.ok(err instanceof InvalidDestinationError, String(err));
        assert.equal(err.destination, destination);
        assert.match(err.message, why);
        return true;
      });
    });
  }

  it('assertDestination measures segments in UTF-8 bytes: 127 × "é" + "a" (255 bytes) passes, 128 × "é" (256 bytes) does not', () => {
    assert.equal(Buffer.byteLength(`${'é'.repeat(127)}a`), MAX_SEGMENT_BYTES);
    assertDestination(`${'é'.repeat(127)}a`);
    assert.throws(() => assertDestination('é'.repeat(128)), InvalidDestinationError);
  });

  it('assertDestination accepts a path of exactly MAX_DESTINATION_BYTES and rejects one byte more', () => {
    const dirs = `${'x'.repeat(200)}/`.repeat(5);
    const exact = `${dirs}${'y'.repeat(MAX_DESTINATION_BYTES - dirs.length)}`;
    assert.equal(Buffer.byteLength(exact), MAX_DESTINATION_BYTES);
    assert.equal(assertDestination(exact), exact);
    assert.throws(() => assertDestination(`${exact}z`), /longer than 1024 bytes/);
  });

  it('assertDestination rejects values that are not strings with InvalidDestinationError', () => {
    for (const value of [undefined, null, 42, ['a']]) {
      assert.throws(() => assertDestination(value as unknown as string), InvalidDestinationError);
    }
  });
});

describe('validate: filenames', () => {
  it('assertFilename accepts one clean segment and returns it', () => {
    for (const name of ['report.csv', '.env', 'ünï cødé.txt']) assert.equal(assertFilename(name), name);
  });

  it('assertFilename rejects a directory part with InvalidDestinationError', () => {
    assert.throws(() => assertFilename('dir/report.csv'), /no directory part/);
    assert.throws(() => assertFilename('dir/report.csv'), InvalidDestinationError);
  });

  it('assertFilename rejects everything assertDestination rejects', () => {
    for (const name of ['', '.', '..', 'a\\b', 'C:x', '\ud800', 'a\u0000', '/abs']) {
      assert.throws(() => assertFilename(name), InvalidDestinationError, JSON.stringify(name));
    }
  });
});

describe('validate: tokens', () => {
  it('isToken accepts exactly 32 lower-case hex characters', () => {
    assert.equal(isToken('0123456789abcdef0123456789abcdef'), true);
    assert.equal(isToken('f'.repeat(32)), true);
  });

  it('isToken rejects upper case, wrong lengths, non-hex, padding and non-strings', () => {
    const bad: unknown[] = [
      'F'.repeat(32),
      'a'.repeat(31),
      'a'.repeat(33),
      `${'a'.repeat(31)}g`,
      ` ${'a'.repeat(31)}`,
      `${'a'.repeat(32)}\n`,
      '',
      Buffer.from('a'.repeat(32)),
      123,
      null,
      undefined,
      { toString: () => 'a'.repeat(32) },
    ];
    for (const value of bad) assert.equal(isToken(value), false, String(value));
  });

  it('newToken gives a fresh valid token each call', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newToken()));
    assert.equal(tokens.size, 1000);
    for (const token of tokens) assert.ok(isToken(token), token);
  });

  it('derivedToken is a valid token, the same for the same parts and different when any part differs', () => {
    const a = derivedToken('bucket', 'key.txt', 'v1', '0055AED6DCD90281E5');
    assert.ok(isToken(a));
    assert.equal(derivedToken('bucket', 'key.txt', 'v1', '0055AED6DCD90281E5'), a);
    assert.notEqual(derivedToken('bucket', 'key.txt', 'v2', '0055AED6DCD90281E5'), a);
    assert.notEqual(derivedToken('bucket', 'key.txt', 'v1', '0055AED6DCD90281E6'), a);
  });

  it('derivedToken separates its parts, so moving a boundary changes the token', () => {
    assert.notEqual(derivedToken('ab', 'c'), derivedToken('a', 'bc'));
    assert.notEqual(derivedToken('a', ''), derivedToken('a'));
  });

  it('derivedToken treats null and undefined parts as empty strings', () => {
    assert.equal(derivedToken('a', null, 'b'), derivedToken('a', '', 'b'));
    assert.equal(derivedToken('a', undefined, 'b'), derivedToken('a', '', 'b'));
  });

  it('assertToken returns a token and rejects anything else with MalformedPacketError', () => {
    const token = newToken();
    assert.equal(assertToken(token), token);
    assert.throws(() => assertToken(token.toUpperCase()), MalformedPacketError);
    assert.throws(() => assertToken(undefined), MalformedPacketError);
  });
});
