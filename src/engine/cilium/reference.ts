import ipaddr from 'ipaddr.js';
import type { CiliumPeer, CiliumPolicy, CiliumRule, CiliumSelector } from '../../model/cilium.ts';
import type { Direction, Labels, Pod, Snapshot } from '../../model/types.ts';
import { type Endpoint, type EngineOptions, isOutsidePolicy } from '../endpoint.ts';
import type { Transport } from '../ports.ts';
import {
  ciliumNodes,
  ciliumSelectorMatches,
  NODE_IDENTITY,
  nodeIdentityLabels,
  peerCidrs,
  podIdentityLabels,
  WORLD_IDENTITY,
} from './identity.ts';

/** Who a peer is to Cilium: an endpoint (with its labels), a Cilium node, a pod's address, or the world. */
type Identity =
  | { kind: 'endpoint'; labels: Labels }
  | { kind: 'node'; ips: readonly string[] }
  | { kind: 'pod-address' }
  | { kind: 'world'; ips: readonly string[] };

export interface CiliumVerdict {
  /** Some Cilium policy selecting the subject isolates it in this direction. */
  isolates: boolean;
  /** A deny rule matches: it wins over every allow. */
  denied: boolean;
  allowed: boolean;
}

/**
 * The reference for Cilium's policies: one question answered straight from the CiliumNetworkPolicy
 * objects, peer by peer and rule by rule, with no classes or sets (see docs/semantics.md).
 */
export function ciliumVerdict(
  snapshot: Snapshot,
  subject: Pod,
  peer: Endpoint,
  direction: Direction,
  protocol: Transport,
  port: number,
  options: EngineOptions,
): CiliumVerdict {
  const verdict: CiliumVerdict = { isolates: false, denied: false, allowed: false };
  if (isOutsidePolicy(subject, options)) return verdict;
  const subjectLabels = podIdentityLabels(subject, snapshot.namespaces.get(subject.namespace)?.labels ?? {});
  const policies = snapshot.ciliumPolicies.filter((p) =>
    ciliumSelectorMatches(p.endpointSelector, subjectLabels),
  );
  const identity = identityOf(snapshot, peer, options);
  const destination = direction === 'ingress' ? subject : 'pod' in peer ? peer.pod : undefined;
  for (const policy of policies) {
    if (policy.defaultDeny[direction] && policy[direction].length > 0) verdict.isolates = true;
    for (const rule of policy[direction]) {
      for (const required of rule.requires ?? []) {
        if (!selectorMatchesIdentity(required, identity)) verdict.denied = true;
      }
      if (!ruleMatchesPeer(snapshot, policy, rule, identity)) continue;
      if (!ruleMatchesPort(rule, protocol, port, destination)) continue;
      if (rule.deny) verdict.denied = true;
      else verdict.allowed = true;
    }
  }
  return verdict;
}

function identityOf(snapshot: Snapshot, peer: Endpoint, options: EngineOptions): Identity {
  const nodeIps = new Set(ciliumNodes(snapshot.nodes).flatMap((n) => n.ips));
  if ('pod' in peer) {
    const pod = peer.pod;
    if (!isOutsidePolicy(pod, options))
      return {
        kind: 'endpoint',
        labels: podIdentityLabels(pod, snapshot.namespaces.get(pod.namespace)?.labels ?? {}),
      };
    // A hostNetwork pod is its node: a Cilium node's identity, or the world's on a node without Cilium.
    if (pod.ips.length === 0 || pod.ips.some((ip) => nodeIps.has(ip))) return { kind: 'node', ips: pod.ips };
    return { kind: 'world', ips: pod.ips };
  }
  if (nodeIps.has(peer.ip)) return { kind: 'node', ips: [peer.ip] };
  const podIps = snapshot.pods.filter((p) => !isOutsidePolicy(p, options)).flatMap((p) => p.ips);
  if (podIps.includes(peer.ip)) return { kind: 'pod-address' };
  return { kind: 'world', ips: [peer.ip] };
}

function selectorMatchesIdentity(selector: CiliumSelector, identity: Identity): boolean {
  if (identity.kind === 'endpoint') return ciliumSelectorMatches(selector, identity.labels);
  if (identity.kind === 'node') return ciliumSelectorMatches(selector, NODE_IDENTITY);
  if (identity.kind === 'world') return ciliumSelectorMatches(selector, WORLD_IDENTITY);
  return false;
}

function ruleMatchesPeer(
  snapshot: Snapshot,
  policy: CiliumPolicy,
  rule: CiliumRule,
  identity: Identity,
): boolean {
  if (rule.peers === undefined) return rule.ports !== undefined || rule.icmpTypes !== undefined;
  return rule.peers.some((peer) => peerMatches(snapshot, policy, peer, identity));
}

function peerMatches(
  snapshot: Snapshot,
  _policy: CiliumPolicy,
  peer: CiliumPeer,
  identity: Identity,
): boolean {
  switch (peer.kind) {
    case 'endpoints':
      return selectorMatchesIdentity(peer.selector, identity);
    case 'entity':
      switch (peer.entity) {
        case 'all':
          return true;
        case 'world':
          return identity.kind === 'world';
        case 'world-ipv4':
          return identity.kind === 'world' && identity.ips.some((ip) => !ip.includes(':'));
        case 'world-ipv6':
          return identity.kind === 'world' && identity.ips.some((ip) => ip.includes(':'));
        case 'cluster':
          return identity.kind !== 'world';
        case 'host':
        case 'remote-node':
          return identity.kind === 'node';
        default:
          return false;
      }
    case 'cidr':
    case 'cidrGroup':
      // CIDR rules select addresses outside the cluster only.
      return (
        identity.kind === 'world' &&
        peerCidrs(peer, snapshot.ciliumCidrGroups).some((block) =>
          identity.ips.some((ip) => inCidr(ip, block.cidr) && !block.except.some((e) => inCidr(ip, e))),
        )
      );
    case 'nodes': {
      if (identity.kind !== 'node') return false;
      const nodes = ciliumNodes(snapshot.nodes).filter((n) =>
        ciliumSelectorMatches(peer.selector, nodeIdentityLabels(n)),
      );
      return identity.ips.length === 0
        ? nodes.length > 0
        : nodes.some((n) => n.ips.some((ip) => identity.ips.includes(ip)));
    }
    case 'fqdn':
    case 'service':
      return false;
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const address = ipaddr.parse(ip);
  const [range, bits] = ipaddr.parseCIDR(cidr);
  return address.kind() === range.kind() && address.match(range, bits);
}

function ruleMatchesPort(
  rule: CiliumRule,
  protocol: Transport,
  port: number,
  destination: Pod | undefined,
): boolean {
  if (rule.ports === undefined && rule.icmpTypes === undefined) return true;
  if (protocol === 'ICMP') return rule.icmpTypes?.includes(port) ?? false;
  return (rule.ports ?? []).some((p) => {
    if (!p.protocols.includes(protocol)) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string')
      return (
        destination?.namedPorts.some(
          (n) => n.name === p.port && n.protocol === protocol && n.port === port,
        ) ?? false
      );
    return port >= p.port && port <= (p.endPort ?? p.port);
  });
}
