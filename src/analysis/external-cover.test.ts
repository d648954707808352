import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { grantArb } from '../testing/random-grants.ts';
import { ExternalCover } from './external-cover.ts';
import { newExternal } from './policy-hygiene.ts';

test('one cover of a side answers for each of its grants as comparing it with all the others does', () => {
  fc.assert(
    fc.property(fc.array(grantArb, { minLength: 1, maxLength: 7 }), (grants) => {
      const cover = new ExternalCover(grants);
      for (const [i, own] of grants.entries()) {
        const others = grants.filter((_, j) => j !== i);
        assert.equal(cover.coveredByOthers(own), newExternal([own], others).length === 0, `grant ${i}`);
      }
    }),
    { numRuns: 500 },
  );
});
