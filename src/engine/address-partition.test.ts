import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { grantsArb } from '../testing/random-grants.ts';
import { type AddressPorts, partitionAddresses, partitionByPorts } from './address-partition.ts';
import { contains } from './intervals.ts';
import { type PortSet, portsKey, unionPorts } from './ports.ts';

/** The unindexed answer: every grant asked at every edge whether it covers it. */
function partitionByEveryGrant(grants: readonly AddressPorts[]): AddressPorts[] {
  return partitionAddresses(
    grants.map((g) => g.addresses),
    (address) =>
      grants.reduce<PortSet | undefined>(
        (acc, g) => (contains(g.addresses, address) ? (acc ? unionPorts(acc, g.ports) : g.ports) : acc),
        undefined,
      ),
  );
}

test('partitioning grants by ports in one sweep agrees with asking every grant at every edge', () => {
  const byPorts = (list: AddressPorts[]) => new Map(list.map((g) => [portsKey(g.ports), g.addresses]));
  fc.assert(
    fc.property(grantsArb(8), (grants) => {
      assert.deepEqual(byPorts(partitionByPorts(grants)), byPorts(partitionByEveryGrant(grants)));
    }),
    { numRuns: 500 },
  );
});
