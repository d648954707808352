import { contains, type IntervalSet, normalize } from './intervals.ts';
import type { PortSet } from './ports.ts';
import { isEmptyPorts, portsKey, unionPorts } from './ports.ts';

export interface AddressPorts {
  addresses: IntervalSet<bigint>;
  ports: PortSet;
}

/**
 * Turns overlapping (addresses, ports) grants into disjoint address sets, one per distinct port set:
 * the union of the ports of the grants covering each piece.
 */
export function partitionByPorts(grants: readonly AddressPorts[]): AddressPorts[] {
  return partitionAddresses(
    grants.map((g) => g.addresses),
    (address) => {
      let ports: PortSet | undefined;
      for (const grant of grants) {
        if (contains(grant.addresses, address)) ports = ports ? unionPorts(ports, grant.ports) : grant.ports;
      }
      return ports;
    },
  );
}

/**
 * Cuts the address axis at every boundary of `edges`, asks `portsAt` for one address of each piece
 * (every address of a piece gets the same answer), and gathers the pieces with equal ports.
 */
export function partitionAddresses(
  edges: Iterable<IntervalSet<bigint>>,
  portsAt: (address: bigint) => PortSet | undefined,
): AddressPorts[] {
  const cuts = new Set<bigint>();
  for (const addresses of edges) {
    for (const [lo, hi] of addresses) {
      cuts.add(lo);
      cuts.add(hi + 1n);
    }
  }
  const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const groups = new Map<string, { ports: PortSet; pieces: [bigint, bigint][] }>();
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i] as bigint;
    const hi = (points[i + 1] as bigint) - 1n;
    const ports = portsAt(lo);
    if (!ports || isEmptyPorts(ports)) continue;
    const key = portsKey(ports);
    const group = groups.get(key) ?? { ports, pieces: [] };
    group.pieces.push([lo, hi]);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ ports, pieces }) => ({ addresses: normalize(pieces), ports }));
}
