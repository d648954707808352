import { PROTOCOLS, type Protocol } from '../model/types.ts';
import { type IntervalSet, intersect, subtract, union } from './intervals.ts';

/** Allowed ports per protocol; a protocol that is absent or empty allows nothing. */
export type PortSet = Readonly<Record<Protocol, IntervalSet<number>>>;

export const NO_PORTS: PortSet = { TCP: [], UDP: [], SCTP: [] };
export const ALL_PORTS: PortSet = { TCP: [[1, 65535]], UDP: [[1, 65535]], SCTP: [[1, 65535]] };

export function portSetOf(protocol: Protocol, ranges: IntervalSet<number>): PortSet {
  return { ...NO_PORTS, [protocol]: ranges };
}

// The identity shortcuts matter: most grants are ALL_PORTS or one rule's shared set, so the common
// cases allocate nothing and later identity checks stay cheap.
export function unionPorts(a: PortSet, b: PortSet): PortSet {
  if (a === b || b === NO_PORTS || a === ALL_PORTS) return a;
  if (a === NO_PORTS || b === ALL_PORTS) return b;
  return { TCP: union(a.TCP, b.TCP), UDP: union(a.UDP, b.UDP), SCTP: union(a.SCTP, b.SCTP) };
}

export function intersectPorts(a: PortSet, b: PortSet): PortSet {
  if (a === b || b === ALL_PORTS || a === NO_PORTS) return a;
  if (a === ALL_PORTS || b === NO_PORTS) return b;
  return { TCP: intersect(a.TCP, b.TCP), UDP: intersect(a.UDP, b.UDP), SCTP: intersect(a.SCTP, b.SCTP) };
}

export function subtractPorts(a: PortSet, b: PortSet): PortSet {
  if (b === NO_PORTS || a === NO_PORTS) return a;
  if (b === ALL_PORTS || a === b) return NO_PORTS;
  return { TCP: subtract(a.TCP, b.TCP), UDP: subtract(a.UDP, b.UDP), SCTP: subtract(a.SCTP, b.SCTP) };
}

export function isEmptyPorts(set: PortSet): boolean {
  return set.TCP.length === 0 && set.UDP.length === 0 && set.SCTP.length === 0;
}

export function equalPorts(a: PortSet, b: PortSet): boolean {
  if (a === b) return true;
  const same = (x: IntervalSet<number>, y: IntervalSet<number>) =>
    x.length === y.length && x.every(([lo, hi], i) => lo === y[i]?.[0] && hi === y[i]?.[1]);
  return same(a.TCP, b.TCP) && same(a.UDP, b.UDP) && same(a.SCTP, b.SCTP);
}

export function portsKey(set: PortSet): string {
  return PROTOCOLS.map((protocol) => set[protocol].map(([lo, hi]) => `${lo}-${hi}`).join(',')).join('|');
}

/** `all ports`, or e.g. `TCP 80,8080-8090 UDP 53`. */
export function formatPorts(set: PortSet): string {
  if (portsKey(set) === portsKey(ALL_PORTS)) return 'all ports';
  return PROTOCOLS.filter((protocol) => set[protocol].length > 0)
    .map(
      (protocol) =>
        `${protocol} ${set[protocol].map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`)).join(',')}`,
    )
    .join(' ');
}
