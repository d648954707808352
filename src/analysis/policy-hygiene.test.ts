import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AddressPorts } from '../engine/address-partition.ts';
import { contains, normalize } from '../engine/intervals.ts';
import {
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  portsKey,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
import { newExternal } from './policy-hygiene.ts';

/** The unindexed answer: at every edge of every grant, every grant is asked whether it covers it. */
function newExternalByEveryGrant(now: readonly AddressPorts[], then: readonly AddressPorts[]) {
  const cuts = new Set<bigint>();
  for (const { addresses } of [...now, ...then]) {
    for (const [lo, hi] of addresses) cuts.add(lo).add(hi + 1n);
  }
  const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const portsAt = (grants: readonly AddressPorts[], address: bigint) =>
    grants.reduce((acc, g) => (contains(g.addresses, address) ? unionPorts(acc, g.ports) : acc), NO_PORTS);
  const byPorts = new Map<string, [bigint, bigint][]>();
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i] as bigint;
    const added = subtractPorts(portsAt(now, lo), portsAt(then, lo));
    if (isEmptyPorts(added)) continue;
    byPorts.set(portsKey(added), [
      ...(byPorts.get(portsKey(added)) ?? []),
      [lo, (points[i + 1] as bigint) - 1n],
    ]);
  }
  return new Map([...byPorts].map(([key, pieces]) => [key, normalize(pieces)]));
}

const interval = fc
  .tuple(fc.bigInt({ min: 0n, max: 60n }), fc.bigInt({ min: 0n, max: 8n }))
  .map(([lo, width]) => [lo, lo + width] as const);
// Few distinct port sets, as policies repeat a handful of ports, so equal sets are counted together.
const ports: fc.Arbitrary<PortSet> = fc
  .array(
    fc.tuple(fc.constantFrom('TCP', 'UDP') as fc.Arbitrary<'TCP' | 'UDP'>, fc.integer({ min: 1, max: 6 })),
    { minLength: 1, maxLength: 3 },
  )
  .map((list) =>
    list.reduce((acc, [protocol, port]) => unionPorts(acc, portSetOf(protocol, [[port, port]])), NO_PORTS),
  );
const grants = fc.array(
  fc.record({ addresses: fc.array(interval, { maxLength: 4 }).map(normalize), ports }),
  { maxLength: 6 },
);

test('new external grants found in one sweep agree with asking every grant at every edge', () => {
  fc.assert(
    fc.property(grants, grants, (now, then) => {
      const swept = new Map(newExternal(now, then).map((g) => [portsKey(g.ports), g.addresses]));
      assert.deepEqual(swept, newExternalByEveryGrant(now, then));
    }),
    { numRuns: 500 },
  );
});
