import { contains, type IntervalSet, normalize } from './intervals.ts';
import type { PortSet } from './ports.ts';
import { intersectPorts, isEmptyPorts, NO_PORTS, portsKey, unionPorts } from './ports.ts';

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
  return partitionBy(edges, portsAt, (ports) => (isEmptyPorts(ports) ? undefined : portsKey(ports))).map(
    ({ addresses, value }) => ({ addresses, ports: value }),
  );
}

/**
 * Several subjects' grants (one list per subject): per piece of the address axis, the ports some
 * subject has (`ports`) and the ports every subject has (`common`).
 */
export function partitionUnionAndCommon(
  answers: readonly (readonly AddressPorts[])[],
): (AddressPorts & { common: PortSet })[] {
  const grants = answers.flat();
  return partitionBy(
    grants.map((g) => g.addresses),
    (address) => {
      let ports: PortSet = NO_PORTS;
      let common: PortSet | undefined;
      for (const answer of answers) {
        const here = answer.find((grant) => contains(grant.addresses, address))?.ports ?? NO_PORTS;
        ports = unionPorts(ports, here);
        common = common ? intersectPorts(common, here) : here;
      }
      return { ports, common: common ?? NO_PORTS };
    },
    ({ ports, common }) => (isEmptyPorts(ports) ? undefined : `${portsKey(ports)}|${portsKey(common)}`),
  ).map(({ addresses, value }) => ({ addresses, ...value }));
}

/** The pieces of the address axis cut at every edge, gathered by `key` of their value (undefined: left out). */
function partitionBy<T>(
  edges: Iterable<IntervalSet<bigint>>,
  valueAt: (address: bigint) => T | undefined,
  key: (value: T) => string | undefined,
): { addresses: IntervalSet<bigint>; value: T }[] {
  const cuts = new Set<bigint>();
  for (const addresses of edges) {
    for (const [lo, hi] of addresses) {
      cuts.add(lo);
      cuts.add(hi + 1n);
    }
  }
  const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const groups = new Map<string, { value: T; pieces: [bigint, bigint][] }>();
  for (let i = 0; i + 1 < points.length; i++) {
    const lo = points[i] as bigint;
    const hi = (points[i + 1] as bigint) - 1n;
    const value = valueAt(lo);
    const id = value === undefined ? undefined : key(value);
    if (value === undefined || id === undefined) continue;
    const group = groups.get(id) ?? { value, pieces: [] };
    group.pieces.push([lo, hi]);
    groups.set(id, group);
  }
  return [...groups.values()].map(({ value, pieces }) => ({ addresses: normalize(pieces), value }));
}
