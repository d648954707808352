import ipaddr from 'ipaddr.js';
import type {
  Direction,
  IpBlock,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyRule,
  Protocol,
  Snapshot,
} from '../model/types.ts';
import { type Endpoint, type EngineOptions, isOutsidePolicy } from './endpoint.ts';
import { selectorMatches } from './selectors.ts';

/**
 * The reference evaluator: one (source, destination, protocol, port) question answered straight from the
 * NetworkPolicy API definitions, with no classes, caches or interval sets. It exists to check the fast
 * engine (see engine.property.test.ts), so it favours being obviously right over being fast.
 */
export function referenceAllows(
  snapshot: Snapshot,
  src: Endpoint,
  dst: Endpoint,
  protocol: Protocol,
  port: number,
  options: EngineOptions,
): boolean {
  if ('pod' in src && 'pod' in dst && src.pod === dst.pod) return true;
  const egressAllowed =
    !('pod' in src) || sideAllows(snapshot, src.pod, dst, 'egress', protocol, port, options);
  const ingressAllowed =
    !('pod' in dst) || sideAllows(snapshot, dst.pod, src, 'ingress', protocol, port, options);
  return egressAllowed && ingressAllowed;
}

function sideAllows(
  snapshot: Snapshot,
  subject: Pod,
  peer: Endpoint,
  direction: Direction,
  protocol: Protocol,
  port: number,
  options: EngineOptions,
): boolean {
  // hostNetwork pods share their node's network namespace, which NetworkPolicy does not police.
  if (isOutsidePolicy(subject, options)) return true;
  const isolating = snapshot.policies.filter(
    (policy) =>
      policy.namespace === subject.namespace &&
      policy.isolates[direction] &&
      selectorMatches(policy.podSelector, subject.labels),
  );
  if (isolating.length === 0) return true;
  // Named ports are resolved on the destination: the subject for ingress, the peer for egress.
  const destination = direction === 'ingress' ? subject : 'pod' in peer ? peer.pod : undefined;
  return isolating.some((policy) =>
    policy[direction].some(
      (rule) =>
        ruleAdmitsPeer(snapshot, policy, rule, peer, options) &&
        ruleAdmitsPort(rule, protocol, port, destination),
    ),
  );
}

function ruleAdmitsPeer(
  snapshot: Snapshot,
  policy: NetworkPolicy,
  rule: PolicyRule,
  peer: Endpoint,
  options: EngineOptions,
): boolean {
  return rule.peers === undefined || rule.peers.some((p) => peerMatches(snapshot, policy, p, peer, options));
}

function peerMatches(
  snapshot: Snapshot,
  policy: NetworkPolicy,
  peer: PolicyPeer,
  endpoint: Endpoint,
  options: EngineOptions,
): boolean {
  if (peer.kind === 'ipBlock') {
    const ips = 'ip' in endpoint ? [endpoint.ip] : options.ipBlockMatchesPods ? endpoint.pod.ips : [];
    return ips.some((ip) => ipInBlock(ip, peer.ipBlock));
  }
  if (!('pod' in endpoint) || isOutsidePolicy(endpoint.pod, options)) return false;
  const pod = endpoint.pod;
  if (peer.namespaceSelector) {
    const namespaceLabels = snapshot.namespaces.get(pod.namespace)?.labels ?? {};
    if (!selectorMatches(peer.namespaceSelector, namespaceLabels)) return false;
  } else if (pod.namespace !== policy.namespace) {
    return false;
  }
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
}

function ipInBlock(ip: string, block: IpBlock): boolean {
  const address = ipaddr.parse(ip);
  const inCidr = (cidr: string) => {
    const [range, bits] = ipaddr.parseCIDR(cidr);
    return address.kind() === range.kind() && address.match(range, bits);
  };
  return inCidr(block.cidr) && !block.except.some(inCidr);
}

function ruleAdmitsPort(
  rule: PolicyRule,
  protocol: Protocol,
  port: number,
  destination: Pod | undefined,
): boolean {
  if (rule.ports === undefined) return true;
  return rule.ports.some((p) => {
    if (p.protocol !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      return (
        destination?.namedPorts.some(
          (n) => n.name === p.port && n.protocol === protocol && n.port === port,
        ) ?? false
      );
    }
    return port >= p.port && port <= (p.endPort ?? p.port);
  });
}
