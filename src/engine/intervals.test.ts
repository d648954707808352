import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { contains, intersect, normalize, subtract, union } from './intervals.ts';

const smallSet = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 8 })), { maxLength: 6 })
  .map((pairs) => normalize(pairs.map(([lo, len]) => [lo, lo + len] as const)));

test('normalize merges overlapping and adjacent intervals', () => {
  assert.deepEqual(
    normalize([
      [5, 7],
      [1, 2],
      [3, 4],
      [10, 12],
      [11, 11],
    ]),
    [
      [1, 7],
      [10, 12],
    ],
  );
});

test('set operations agree with membership on every point', () => {
  fc.assert(
    fc.property(smallSet, smallSet, (a, b) => {
      for (let x = 0; x <= 70; x++) {
        const inA = contains(a, x);
        const inB = contains(b, x);
        assert.equal(contains(union(a, b), x), inA || inB);
        assert.equal(contains(intersect(a, b), x), inA && inB);
        assert.equal(contains(subtract(a, b), x), inA && !inB);
      }
    }),
  );
});

test('bigint intervals work for 128-bit ranges', () => {
  const all = [[0n, (1n << 128n) - 1n]] as const;
  const hole = subtract(all, [[1n << 64n, 1n << 65n]]);
  assert.equal(contains(hole, 1n << 64n), false);
  assert.equal(contains(hole, (1n << 65n) + 1n), true);
});
