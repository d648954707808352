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
  const groups = new PortGroups();
  sweepPorts([grants], (lo, hi, [active]) => groups.add(lo, hi, unionOfActive(active as ActivePorts)));
  return groups.result();
}

/** The grants covering one piece of the address axis, counted per port set (by portsKey). */
export type ActivePorts = ReadonlyMap<string, { ports: PortSet; count: number }>;

/** The ports the grants covering a piece give together. */
export function unionOfActive(active: ActivePorts): PortSet {
  let ports = NO_PORTS;
  for (const entry of active.values()) ports = unionPorts(ports, entry.ports);
  return ports;
}

/** Address pieces gathered per port set (empty ports left out), as disjoint sets in first-seen order. */
export class PortGroups {
  private readonly groups = new Map<string, { ports: PortSet; pieces: [bigint, bigint][] }>();

  add(lo: bigint, hi: bigint, ports: PortSet): void {
    if (isEmptyPorts(ports)) return;
    const key = portsKey(ports);
    const group = this.groups.get(key);
    if (group) group.pieces.push([lo, hi]);
    else this.groups.set(key, { ports, pieces: [[lo, hi]] });
  }

  result(): AddressPorts[] {
    return [...this.groups.values()].map(({ ports, pieces }) => ({ addresses: normalize(pieces), ports }));
  }
}

/**
 * Walks the address axis once, cut at every edge of every grant of every side, and calls `visit` with
 * each piece some grant covers and, per side, the grants covering it counted per port set (valid during
 * the call only). A piece costs the few distinct port sets active on it, not a question to every grant:
 * asking every grant at every edge made many ipBlock-heavy rules quadratic.
 */
export function sweepPorts(
  sides: readonly (readonly AddressPorts[])[],
  visit: (lo: bigint, hi: bigint, active: ActivePorts[]) => void,
): void {
  interface Edge {
    at: bigint;
    side: number;
    key: string;
    ports: PortSet;
    delta: 1 | -1;
  }
  const edges: Edge[] = [];
  for (const [side, grants] of sides.entries()) {
    for (const { addresses, ports } of grants) {
      const key = portsKey(ports);
      for (const [lo, hi] of addresses)
        edges.push({ at: lo, side, key, ports, delta: 1 }, { at: hi + 1n, side, key, ports, delta: -1 });
    }
  }
  edges.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const active = sides.map(() => new Map<string, { ports: PortSet; count: number }>());
  let covered = 0;
  for (let i = 0; i < edges.length; ) {
    const lo = (edges[i] as Edge).at;
    for (; i < edges.length && (edges[i] as Edge).at === lo; i++) {
      const { side, key, ports, delta } = edges[i] as Edge;
      const counts = active[side] as Map<string, { ports: PortSet; count: number }>;
      const count = (counts.get(key)?.count ?? 0) + delta;
      covered += delta;
      if (count === 0) counts.delete(key);
      else counts.set(key, { ports, count });
    }
    if (i === edges.length || covered === 0) continue;
    visit(lo, (edges[i] as Edge).at - 1n, active);
  }
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
