/** Test support: the ports and addresses worth asking the reference evaluator about in a snapshot. */
import { parseCidr } from '../engine/addresses.ts';
import { PROTOCOLS, type Protocol, type Snapshot } from '../model/types.ts';
import { formatIp } from './random-cluster.ts';

/** 1, 65535, every rule port and range end with its neighbours, and every named port number. */
export function probePorts(snapshot: Snapshot): Record<Protocol, number[]> {
  const probes = { TCP: new Set([1, 65535]), UDP: new Set([1, 65535]), SCTP: new Set([1, 65535]) };
  const rulePorts = [
    ...snapshot.policies.flatMap((p) => [...p.ingress, ...p.egress].flatMap((r) => r.ports ?? [])),
    ...snapshot.clusterPolicies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) => (r.ports ?? []).filter((port) => port.kind === 'number')),
    ),
  ];
  for (const p of rulePorts) {
    if (typeof p.port !== 'number') continue;
    for (const edge of [p.port, p.endPort ?? p.port]) {
      for (const port of [edge - 1, edge, edge + 1])
        if (port >= 1 && port <= 65535) probes[p.protocol].add(port);
    }
  }
  // Every protocol gets every named-port number, so a name resolved under the wrong protocol shows.
  for (const pod of snapshot.pods) {
    for (const named of pod.namedPorts) for (const protocol of PROTOCOLS) probes[protocol].add(named.port);
  }
  return { TCP: [...probes.TCP], UDP: [...probes.UDP], SCTP: [...probes.SCTP] };
}

/** Pod IPs seen from outside, every ipBlock and except edge with its neighbours, and two far addresses. */
export function probeIps(snapshot: Snapshot): string[] {
  const ips = new Set([
    '192.0.2.1',
    '2001:db8::1',
    ...snapshot.pods.flatMap((p) => p.ips),
    ...snapshot.nodes.flatMap((n) => n.ips),
  ]);
  const blocks = [
    ...snapshot.policies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) =>
        (r.peers ?? []).flatMap((peer) =>
          peer.kind === 'ipBlock' ? [peer.ipBlock.cidr, ...peer.ipBlock.except] : [],
        ),
      ),
    ),
    ...snapshot.clusterPolicies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) =>
        r.peers.flatMap((peer) => (peer.kind === 'networks' ? peer.cidrs : [])),
      ),
    ),
  ];
  for (const text of blocks) {
    const cidr = parseCidr(text) as NonNullable<ReturnType<typeof parseCidr>>;
    const { bits, base } = cidr.family === 4 ? { bits: 32, base: 0n } : { bits: 128, base: 1n << 32n };
    for (const value of [cidr.lo - 1n, cidr.lo, cidr.hi, cidr.hi + 1n]) {
      const local = value - base;
      if (local >= 0n && local < 1n << BigInt(bits)) ips.add(formatIp(cidr.family, local));
    }
  }
  return [...ips];
}

/**
 * At most `max` of `items`, chosen by `seed`. External questions outnumber pod-pair ones more than ten
 * to one and the reference parses every CIDR on every question, so each run asks about a sample of the
 * probe addresses; across runs every kind of boundary still comes up many times.
 */
export function sample<T>(items: readonly T[], max: number, seed: number): T[] {
  const picked = [...items];
  let state = seed;
  for (let i = picked.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [picked[i], picked[j]] = [picked[j] as T, picked[i] as T];
  }
  return picked.slice(0, max);
}
