import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentTokens } from '../../shared/consumer/recent.js';
import { Rng, testSeeds } from './helpers.js';

describe('RecentTokens', () => {
  it('remembers what was set, with its value', () => {
    const recent = new RecentTokens<string>(3);
    recent.set('a', 'one');
    assert.equal(recent.has('a'), true);
    assert.equal(recent.get('a'), 'one');
    assert.equal(recent.has('b'), false);
    assert.equal(recent.get('b'), undefined);
  });

  it('forgets the oldest token first once over capacity', () => {
    const recent = new RecentTokens<number>(3);
    for (const [i, token] of ['a', 'b', 'c', 'd'].entries()) recent.set(token, i);
    assert.equal(recent.has('a'), false);
    assert.deepEqual(['b', 'c', 'd'].map((t) => recent.get(t)), [1, 2, 3]);
    recent.set('e', 4);
    assert.equal(recent.has('b'), false);
    assert.equal(recent.has('c'), true);
  });

  it('setting a token again makes it the newest and updates its value', () => {
    const recent = new RecentTokens<string>(3);
    recent.set('a', 'old');
    recent.set('b', 'b');
    recent.set('c', 'c');
    recent.set('a', 'new');
    recent.set('d', 'd');
    assert.equal(recent.has('b'), false, 'b is now the oldest and goes first');
    assert.equal(recent.get('a'), 'new');
    assert.equal(recent.has('c'), true);
  });

  it('keeps a falsy value distinguishable from absence', () => {
    const recent = new RecentTokens<string>(2);
    recent.set('a', '');
    assert.equal(recent.has('a'), true);
    assert.equal(recent.get('a'), '');
  });

  for (const seed of testSeeds()) {
    it(`behaves like a bounded insertion-ordered list under random operations (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const capacity = rng.between(1, 20);
      const recent = new RecentTokens<number>(capacity);
      let model: Array<[string, number]> = [];
      for (let i = 0; i < 5000; i++) {
        const token = `t${rng.int(40)}`;
        if (rng.bool(0.6)) {
          recent.set(token, i);
          model = model.filter(([t]) => t !== token);
          model.push([token, i]);
          if (model.length > capacity) model.shift();
        } else {
          const expected = model.find(([t]) => t === token)?.[1];
          assert.equal(recent.get(token), expected, `seed ${seed}, step ${i}, capacity ${capacity}`);
          assert.equal(recent.has(token), expected !== undefined, `seed ${seed}, step ${i}`);
        }
      }
      let remembered = 0;
      for (let t = 0; t < 40; t++) if (recent.has(`t${t}`)) remembered++;
      assert.equal(remembered, Math.min(capacity, model.length), `seed ${seed}: never more than capacity`);
    });
  }
});
