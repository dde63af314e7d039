import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedPacketError } from '../../shared/errors.js';
import { decodePacket } from '../../shared/protocol/codec.js';
import { PacketKind } from '../../shared/protocol/constants.js';
import { fuzzMutated, fuzzRandom } from '../support/decoder-fuzz.js';
import { headers, rawMessage, sha256Hex, testSeeds } from './helpers.js';

const ITERATIONS = 5000;

describe('codec: fuzzing decodePacket', () => {
  for (const seed of testSeeds()) {
    it(`decode of ${ITERATIONS} mutated packets either returns a well-formed packet or throws a FilepeerError (seed ${seed})`, () => {
      const { outcomes } = fuzzMutated(seed, ITERATIONS);
      // The fuzzer must reach both sides and the deeper checks, or it proves nothing.
      const summary = `seed ${seed}: ${JSON.stringify(Object.fromEntries(outcomes))}`;
      for (const outcome of ['decoded', 'MalformedPacketError', 'InvalidDestinationError', 'InvalidDomainError', 'OversizeError']) {
        assert.ok((outcomes.get(outcome) ?? 0) > 0, `${summary}: never saw ${outcome}`);
      }
    });
  }

  it('decode of random bytes under random headers and types never throws anything but a FilepeerError', () => {
    for (const seed of testSeeds()) {
      const { tried, refused, decoded } = fuzzRandom(seed, 2000);
      assert.equal(refused + decoded, tried);
    }
  });

  it(
    'decode rejects a deeply nested JSON value in a start or end field with MalformedPacketError, not a RangeError',
    () => {
      const deep = '['.repeat(6000) + ']'.repeat(6000);
      const cases: Array<[string, number, string]> = [
        [PacketKind.Start, 0, `{"chunkSize":${deep}}`],
        [PacketKind.End, 1, `{"chunks":${deep}}`],
        [PacketKind.End, 1, `{"chunks":0,"bytes":0,"sha256":${deep}}`],
      ];
      for (const [type, seq, body] of cases) {
        assert.throws(() => decodePacket(rawMessage(type, headers(seq), Buffer.from(body))), MalformedPacketError);
      }
    },
  );

  it('decode rejects a deeply nested meta object with MalformedPacketError', () => {
    const depth = 6000;
    const meta = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const body = `{"chunks":0,"bytes":0,"sha256":"${sha256Hex('')}","meta":${meta}}`;
    assert.throws(() => decodePacket(rawMessage(PacketKind.End, headers(1), Buffer.from(body))), MalformedPacketError);
  });
});
