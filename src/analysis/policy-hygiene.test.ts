import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AddressPorts } from '../engine/address-partition.ts';
import { contains, normalize } from '../engine/intervals.ts';
import { isEmptyPorts, NO_PORTS, portsKey, subtractPorts, unionPorts } from '../engine/ports.ts';
import { grantsArb } from '../testing/random-grants.ts';
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

test('new external grants found in one sweep agree with asking every grant at every edge', () => {
  fc.assert(
    fc.property(grantsArb(6), grantsArb(6), (now, then) => {
      const swept = new Map(newExternal(now, then).map((g) => [portsKey(g.ports), g.addresses]));
      assert.deepEqual(swept, newExternalByEveryGrant(now, then));
    }),
    { numRuns: 500 },
  );
});
