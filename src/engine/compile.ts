import type {
  ClusterAction,
  ClusterPolicy,
  ClusterPort,
  ClusterRule,
  NetworkPolicy,
  PolicyPort,
  PolicyRule,
} from '../model/types.ts';
import { ALL_ADDRESSES } from './addresses.ts';
import type { EngineOptions } from './endpoint.ts';
import { type IntervalSet, normalize } from './intervals.ts';
import type { PeerMatcher } from './peer-matcher.ts';
import type { PodClass } from './pod-classes.ts';
import { ALL_PORTS, NO_PORTS, type PortSet, portSetOf, unionPorts } from './ports.ts';

/** A rule resolved against the snapshot's pod classes. */
export interface CompiledRule {
  id: number;
  policy: NetworkPolicy;
  rule: PolicyRule;
  /** Classes the rule's peers admit; undefined when the rule names no peers and so admits everything. */
  classes?: ReadonlySet<number>;
  /** Classes admitted only because an ipBlock covers their IPs (the ipblock-matches-pods choice). */
  classesByIpBlock: ReadonlySet<number>;
  /** External addresses the rule's peers admit. */
  addresses: IntervalSet<bigint>;
  /** The rule's ports when it names no port by name, the same for every destination. */
  numericPorts?: PortSet;
}

export function compileRule(
  id: number,
  policy: NetworkPolicy,
  rule: PolicyRule,
  matcher: PeerMatcher,
  options: EngineOptions,
): CompiledRule {
  const numericPorts = rule.ports?.some((p) => typeof p.port === 'string')
    ? undefined
    : portsOf(rule.ports, undefined);
  if (rule.peers === undefined) {
    return { id, policy, rule, classesByIpBlock: new Set(), addresses: ALL_ADDRESSES, numericPorts };
  }
  return { id, policy, rule, ...matcher.peers(policy.namespace, rule.peers, options), numericPorts };
}

/** A rule's ports as a set; named ports resolve on `destination` (by name and protocol), or match nothing. */
export function portsOf(
  ports: readonly PolicyPort[] | undefined,
  destination: PodClass | undefined,
): PortSet {
  if (ports === undefined) return ALL_PORTS;
  let set = NO_PORTS;
  for (const p of ports) {
    let ranges: IntervalSet<number>;
    if (p.port === undefined) ranges = [[1, 65535]];
    else if (typeof p.port === 'number') ranges = [[p.port, p.endPort ?? p.port]];
    else {
      const name = p.port;
      ranges = normalize(
        (destination?.namedPorts ?? [])
          .filter((named) => named.name === name && named.protocol === p.protocol)
          .map((named) => [named.port, named.port] as const),
      );
    }
    set = unionPorts(set, portSetOf(p.protocol, ranges));
  }
  return set;
}

/** An Admin- or Baseline-tier rule resolved against the snapshot's pod classes. */
export interface CompiledClusterRule {
  id: number;
  policy: ClusterPolicy;
  rule: ClusterRule;
  action: ClusterAction;
  /** Classes the peers match: by selector, or because a `networks` or `nodes` address is theirs. */
  classes: ReadonlySet<number>;
  /** Addresses the `networks` and `nodes` peers match. */
  addresses: IntervalSet<bigint>;
  numericPorts?: PortSet;
}

export function compileClusterRule(
  id: number,
  policy: ClusterPolicy,
  rule: ClusterRule,
  matcher: PeerMatcher,
): CompiledClusterRule {
  const numericPorts = rule.ports?.some((p) => p.kind === 'named')
    ? undefined
    : clusterPortsOf(rule.ports, undefined);
  return { id, policy, rule, action: rule.action, ...matcher.clusterPeers(rule.peers), numericPorts };
}

/** A cluster rule's ports; a named port matches the destination's container ports of that name, any protocol. */
export function clusterPortsOf(
  ports: readonly ClusterPort[] | undefined,
  destination: PodClass | undefined,
): PortSet {
  if (ports === undefined) return ALL_PORTS;
  let set = NO_PORTS;
  for (const p of ports) {
    if (p.kind === 'number') {
      const ranges: IntervalSet<number> =
        p.port === undefined ? [[1, 65535]] : [[p.port, p.endPort ?? p.port]];
      set = unionPorts(set, portSetOf(p.protocol, ranges));
      continue;
    }
    for (const named of destination?.namedPorts ?? []) {
      if (named.name === p.name) set = unionPorts(set, portSetOf(named.protocol, [[named.port, named.port]]));
    }
  }
  return set;
}
