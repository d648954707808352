import { PROTOCOLS, type Protocol } from '../model/types.ts';
import { type IntervalSet, intersect, subtract, union } from './intervals.ts';

/**
 * What a connection is made on: a port protocol, or ICMP, whose "ports" are the ICMP message types
 * (0-255, IPv4 and IPv6 types in one range). A rule that names ports allows no ICMP; a rule that names
 * none allows it, as the CNIs that police ICMP do.
 */
export type Transport = Protocol | 'ICMP';
export const TRANSPORTS: readonly Transport[] = [...PROTOCOLS, 'ICMP'];
export const ICMP_TYPES: IntervalSet<number> = [[0, 255]];

/** Allowed ports per protocol (ICMP types for ICMP); a protocol that is empty allows nothing. */
export type PortSet = Readonly<Record<Transport, IntervalSet<number>>>;

export const NO_PORTS: PortSet = { TCP: [], UDP: [], SCTP: [], ICMP: [] };
export const ALL_PORTS: PortSet = {
  TCP: [[1, 65535]],
  UDP: [[1, 65535]],
  SCTP: [[1, 65535]],
  ICMP: ICMP_TYPES,
};

export function portSetOf(protocol: Transport, ranges: IntervalSet<number>): PortSet {
  return { ...NO_PORTS, [protocol]: ranges };
}

function combine(
  a: PortSet,
  b: PortSet,
  op: (x: IntervalSet<number>, y: IntervalSet<number>) => IntervalSet<number>,
): PortSet {
  return { TCP: op(a.TCP, b.TCP), UDP: op(a.UDP, b.UDP), SCTP: op(a.SCTP, b.SCTP), ICMP: op(a.ICMP, b.ICMP) };
}

// The identity shortcuts matter: most grants are ALL_PORTS or one rule's shared set, so the common
// cases allocate nothing and later identity checks stay cheap.
export function unionPorts(a: PortSet, b: PortSet): PortSet {
  if (a === b || b === NO_PORTS || a === ALL_PORTS) return a;
  if (a === NO_PORTS || b === ALL_PORTS) return b;
  return combine(a, b, union);
}

export function intersectPorts(a: PortSet, b: PortSet): PortSet {
  if (a === b || b === ALL_PORTS || a === NO_PORTS) return a;
  if (a === ALL_PORTS || b === NO_PORTS) return b;
  return combine(a, b, intersect);
}

export function subtractPorts(a: PortSet, b: PortSet): PortSet {
  if (b === NO_PORTS || a === NO_PORTS) return a;
  if (b === ALL_PORTS || a === b) return NO_PORTS;
  return combine(a, b, subtract);
}

export function isEmptyPorts(set: PortSet): boolean {
  return TRANSPORTS.every((t) => set[t].length === 0);
}

export function equalPorts(a: PortSet, b: PortSet): boolean {
  if (a === b) return true;
  const same = (x: IntervalSet<number>, y: IntervalSet<number>) =>
    x.length === y.length && x.every(([lo, hi], i) => lo === y[i]?.[0] && hi === y[i]?.[1]);
  return TRANSPORTS.every((t) => same(a[t], b[t]));
}

export function portsKey(set: PortSet): string {
  return TRANSPORTS.map((t) => set[t].map(([lo, hi]) => `${lo}-${hi}`).join(',')).join('|');
}

/** `all ports`, or e.g. `TCP 80,8080-8090 UDP 53 ICMP type 8`; `ICMP` alone is every ICMP type. */
export function formatPorts(set: PortSet): string {
  if (portsKey(set) === portsKey(ALL_PORTS)) return 'all ports';
  const ranges = (t: Transport) => set[t].map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`)).join(',');
  return TRANSPORTS.filter((t) => set[t].length > 0)
    .map((t) => {
      if (t !== 'ICMP') return `${t} ${ranges(t)}`;
      return equalPorts(set, { ...set, ICMP: ICMP_TYPES }) ? 'ICMP' : `ICMP type ${ranges(t)}`;
    })
    .join(' ');
}
