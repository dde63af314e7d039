/**
 * Issue 4, point 5, the fuzz half: the packet decoder against thousands of random, mutated and
 * bad-by-construction packets, with the faults suite's own seeds (the unit fuzz test runs the same
 * generators with others). Pure decoding: no broker, no fakes of one. Counts go to the ledger before
 * anything is asserted; a failure names its seed, to rerun with FILEPEER_TEST_SEED.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilepeerError } from '../../shared/errors.js';
import { decodePacket } from '../../shared/protocol/codec.js';
import { fuzzMutated, fuzzRandom, newTally, type FuzzTally } from '../support/decoder-fuzz.js';
import { Rng, asMessage } from '../unit/helpers.js';
import { badPacket } from './bad-packets.js';
import { recordTally } from './ledger.js';

const MUTATED = 10_000;
const RANDOM = 4_000;
const BAD = 5_000;

/** Two fixed seeds other than the unit test's, and one fresh per run; or FILEPEER_TEST_SEED alone. */
function faultSeeds(): number[] {
  const fromEnv = process.env['FILEPEER_TEST_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') return [Number(fromEnv) >>> 0];
  return [0xfa017, 0xbad5eed, (Date.now() ^ (process.pid << 8)) >>> 0];
}

const summary = (t: FuzzTally): string => JSON.stringify(Object.fromEntries(t.outcomes));

describe('faults, bad input: decoder fuzz', () => {
  for (const seed of faultSeeds()) {
    it(`mutated and random packets: every one refused with a FilepeerError or decoded well-formed (seed ${seed})`, async (t) => {
      // The loops assert as they go (a platform error or a malformed packet stops them at once); the
      // tallies are ours, so what was done before a failure is still counted.
      const mutated = newTally();
      const random = newTally();
      let failure: unknown;
      try {
        fuzzMutated(seed, MUTATED, mutated);
        fuzzRandom(seed, RANDOM, random);
      } catch (err) {
        failure = err;
      }
      const refused = mutated.refused + random.refused;
      const decoded = mutated.decoded + random.decoded;
      const tried = mutated.tried + random.tried;
      // A case that decoded to a well-formed packet (a mutation can leave one valid) is no bad input;
      // the case that stopped the loop, if any, is one not refused.
      await recordTally({
        scenario: `decoder fuzz, seed ${seed}: ${MUTATED} mutated + ${RANDOM} random packets; bad inputs = those not decoding to a packet that passes every invariant`,
        area: 'bad-input',
        badInputsTried: refused + (failure === undefined ? 0 : 1),
        badInputsRefused: refused,
      });
      t.diagnostic(`seed ${seed}: ${tried} cases, ${refused} refused with a FilepeerError, ${decoded} decoded well-formed`);
      if (failure !== undefined) throw failure;
      assert.equal(tried, MUTATED + RANDOM);
      assert.equal(refused + decoded, tried);
      // The fuzzer must reach both sides and every refusal, or it proves nothing.
      for (const outcome of ['decoded', 'MalformedPacketError', 'InvalidDestinationError', 'InvalidDomainError', 'OversizeError']) {
        assert.ok((mutated.outcomes.get(outcome) ?? 0) > 0, `seed ${seed}: ${summary(mutated)}: never saw ${outcome}`);
      }
    });

    it(`${BAD} packets bad by construction: every one refused, with the error class its defect calls for (seed ${seed})`, async () => {
      const rng = new Rng(seed ^ 0xbadbad);
      const kinds = new Map<string, number>();
      const misses: string[] = [];
      let refused = 0;
      for (let i = 0; i < BAD; i++) {
        const bad = badPacket(rng);
        kinds.set(bad.kind, (kinds.get(bad.kind) ?? 0) + 1);
        let outcome: string;
        try {
          decodePacket(asMessage(bad.packet));
          outcome = 'decoded';
        } catch (err) {
          if (err instanceof FilepeerError && err.constructor === bad.expected) {
            refused++;
            continue;
          }
          outcome = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
        }
        if (misses.length < 10) misses.push(`iteration ${i}, ${bad.kind} (${bad.what}): ${outcome}, expected ${bad.expected.name}`);
      }
      await recordTally({
        scenario: `decoder must-refuse fuzz, seed ${seed}: ${BAD} packets each with one defect (${[...kinds.keys()].join(', ')})`,
        area: 'bad-input',
        badInputsTried: BAD,
        badInputsRefused: refused,
      });
      assert.deepEqual(misses, [], `seed ${seed} (FILEPEER_TEST_SEED=${seed})`);
      assert.equal(refused, BAD);
      assert.equal(kinds.size, 9, `every kind of defect was generated: ${JSON.stringify(Object.fromEntries(kinds))}`);
    });
  }
});
