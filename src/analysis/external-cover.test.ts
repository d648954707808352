import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AddressPorts } from '../engine/address-partition.ts';
import { normalize } from '../engine/intervals.ts';
import { NO_PORTS, type PortSet, portSetOf, unionPorts } from '../engine/ports.ts';
import { ExternalCover } from './external-cover.ts';
import { newExternal } from './policy-hygiene.ts';

const interval = fc
  .tuple(fc.bigInt({ min: 0n, max: 60n }), fc.bigInt({ min: 0n, max: 8n }))
  .map(([lo, width]) => [lo, lo + width] as const);
// Few distinct port sets, so grants with equal ports (counted together) are common.
const ports: fc.Arbitrary<PortSet> = fc
  .array(
    fc.tuple(fc.constantFrom('TCP', 'UDP') as fc.Arbitrary<'TCP' | 'UDP'>, fc.integer({ min: 1, max: 4 })),
    {
      minLength: 1,
      maxLength: 2,
    },
  )
  .map((list) =>
    list.reduce((acc, [protocol, port]) => unionPorts(acc, portSetOf(protocol, [[port, port]])), NO_PORTS),
  );
const grant: fc.Arbitrary<AddressPorts> = fc.record({
  addresses: fc.array(interval, { minLength: 1, maxLength: 4 }).map(normalize),
  ports,
});

test('one cover of a side answers for each of its grants as comparing it with all the others does', () => {
  fc.assert(
    fc.property(fc.array(grant, { minLength: 1, maxLength: 7 }), (grants) => {
      const cover = new ExternalCover(grants);
      for (const [i, own] of grants.entries()) {
        const others = grants.filter((_, j) => j !== i);
        assert.equal(cover.coveredByOthers(own), newExternal([own], others).length === 0, `grant ${i}`);
      }
    }),
    { numRuns: 500 },
  );
});
