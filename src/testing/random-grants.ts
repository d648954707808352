import fc from 'fast-check';
import type { AddressPorts } from '../engine/address-partition.ts';
import { normalize } from '../engine/intervals.ts';
import { NO_PORTS, type PortSet, portSetOf, unionPorts } from '../engine/ports.ts';

/**
 * Random (addresses, ports) grants on a short address axis, so blocks overlap and touch often, with few
 * distinct port sets, so grants with equal ports (which sweeps count together) are common.
 */
const interval = fc
  .tuple(fc.bigInt({ min: 0n, max: 60n }), fc.bigInt({ min: 0n, max: 8n }))
  .map(([lo, width]) => [lo, lo + width] as const);

const ports: fc.Arbitrary<PortSet> = fc
  .array(
    fc.tuple(fc.constantFrom('TCP', 'UDP') as fc.Arbitrary<'TCP' | 'UDP'>, fc.integer({ min: 1, max: 4 })),
    { minLength: 1, maxLength: 2 },
  )
  .map((list) =>
    list.reduce((acc, [protocol, port]) => unionPorts(acc, portSetOf(protocol, [[port, port]])), NO_PORTS),
  );

export const grantArb: fc.Arbitrary<AddressPorts> = fc.record({
  addresses: fc.array(interval, { minLength: 1, maxLength: 4 }).map(normalize),
  ports,
});

export const grantsArb = (maxLength: number): fc.Arbitrary<AddressPorts[]> =>
  fc.array(grantArb, { maxLength });
