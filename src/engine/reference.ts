import ipaddr from 'ipaddr.js';
import {
  type ClusterPeer,
  type ClusterRule,
  clusterPolicyOrder,
  type Direction,
  type IpBlock,
  type Labels,
  type NetworkPolicy,
  type Pod,
  type PodScope,
  type PolicyPeer,
  type PolicyRule,
  type Snapshot,
  type Tier,
} from '../model/types.ts';
import { calicoSideAllows } from './calico/reference.ts';
import { selectorLabels } from './cilium/identity.ts';
import { ciliumVerdict } from './cilium/reference.ts';
import { type Endpoint, type EngineOptions, isOutsidePolicy } from './endpoint.ts';
import type { Transport } from './ports.ts';
import { selectorMatches } from './selectors.ts';

/**
 * The reference evaluator: one (source, destination, protocol, port) question answered straight from the
 * NetworkPolicy and policy.networking.k8s.io API definitions, with no classes, caches or interval sets. It exists to check the fast
 * engine (see engine.property.test.ts), so it favours being obviously right over being fast.
 */
export function referenceAllows(
  snapshot: Snapshot,
  src: Endpoint,
  dst: Endpoint,
  protocol: Transport,
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
  protocol: Transport,
  port: number,
  options: EngineOptions,
): boolean {
  // hostNetwork pods share their node's network namespace, which NetworkPolicy does not police.
  if (isOutsidePolicy(subject, options)) return true;
  // Named ports are resolved on the destination: the subject for ingress, the peer for egress.
  const destination = direction === 'ingress' ? subject : 'pod' in peer ? peer.pod : undefined;
  const tierVerdict = (tier: Tier) => {
    const policies = snapshot.clusterPolicies
      .filter((p) => p.tier === tier && scopeSelects(snapshot, p.subject, subject, options))
      .sort(clusterPolicyOrder);
    for (const policy of policies) {
      for (const rule of policy[direction]) {
        if (clusterRuleMatches(snapshot, rule, peer, protocol, port, destination, options))
          return rule.action;
      }
    }
    return undefined;
  };
  const isolating = snapshot.policies.filter(
    (policy) =>
      policy.namespace === subject.namespace &&
      policy.isolates[direction] &&
      selectorMatches(policy.podSelector, labelsOf(snapshot, subject, options)),
  );
  const admits = (policy: NetworkPolicy) =>
    policy[direction].some(
      (rule) =>
        ruleAdmitsPeer(snapshot, policy, rule, peer, options) &&
        ruleAdmitsPort(rule, protocol, port, destination),
    );
  if (snapshot.calico) {
    const kube = {
      admin: () => tierVerdict('Admin'),
      baseline: () => tierVerdict('Baseline'),
      isolating,
      admits,
    };
    return calicoSideAllows(snapshot, subject, peer, direction, protocol, port, options, kube);
  }
  const admin = tierVerdict('Admin');
  if (admin === 'Allow') return true;
  if (admin === 'Deny') return false;
  // Cilium's policies share NetworkPolicy's tier: a deny wins over every allow, allows are unioned.
  const cilium = ciliumVerdict(snapshot, subject, peer, direction, protocol, port, options);
  if (cilium.denied) return false;
  // A Cilium allow rule matches the traffic in NetworkPolicy's tier, isolating or not (enableDefaultDeny
  // off): Baseline rules apply only to traffic "not matched by any AdminNetworkPolicy or NetworkPolicy rules".
  if (cilium.allowed) return true;
  // Only a subject that nothing isolates reaches the Baseline tier; its Pass means the default.
  if (isolating.length === 0 && !cilium.isolates) return tierVerdict('Baseline') !== 'Deny';
  return isolating.some(admits);
}

/** The labels selectors see: under Cilium, with the ones it derives. */
function labelsOf(snapshot: Snapshot, pod: Pod, options: EngineOptions): Labels {
  if (!options.ciliumIdentity) return pod.labels;
  return selectorLabels(pod, snapshot.namespaces.get(pod.namespace)?.labels ?? {});
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
  return (
    peer.podSelector === undefined || selectorMatches(peer.podSelector, labelsOf(snapshot, pod, options))
  );
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
  protocol: Transport,
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

function scopeSelects(snapshot: Snapshot, scope: PodScope, pod: Pod, options: EngineOptions): boolean {
  // Host-networked pods are never subjects or pod peers of cluster policies.
  if (isOutsidePolicy(pod, options)) return false;
  const namespaceLabels = snapshot.namespaces.get(pod.namespace)?.labels ?? {};
  return (
    selectorMatches(scope.namespaceSelector, namespaceLabels) &&
    (scope.podSelector === undefined || selectorMatches(scope.podSelector, labelsOf(snapshot, pod, options)))
  );
}

function clusterRuleMatches(
  snapshot: Snapshot,
  rule: ClusterRule,
  peer: Endpoint,
  protocol: Transport,
  port: number,
  destination: Pod | undefined,
  options: EngineOptions,
): boolean {
  const peerMatches = rule.peers.some((p) => clusterPeerMatches(snapshot, p, peer, options));
  const portMatches =
    rule.ports === undefined ||
    rule.ports.some((p) =>
      p.kind === 'named'
        ? (destination?.namedPorts.some(
            (n) => n.name === p.name && n.protocol === protocol && n.port === port,
          ) ?? false)
        : p.protocol === protocol &&
          (p.port === undefined || (port >= p.port && port <= (p.endPort ?? p.port))),
    );
  return peerMatches && portMatches;
}

function clusterPeerMatches(
  snapshot: Snapshot,
  peer: ClusterPeer,
  endpoint: Endpoint,
  options: EngineOptions,
): boolean {
  if (peer.kind === 'pods') return 'pod' in endpoint && scopeSelects(snapshot, peer, endpoint.pod, options);
  // networks and nodes peers match addresses, and so also the pods that hold them.
  const ips = 'ip' in endpoint ? [endpoint.ip] : endpoint.pod.ips;
  const cidrs =
    peer.kind === 'networks'
      ? peer.cidrs
      : snapshot.nodes
          .filter((node) => selectorMatches(peer.nodeSelector, node.labels))
          .flatMap((node) => node.ips.map((ip) => `${ip}/${ip.includes(':') ? 128 : 32}`));
  return ips.some((ip) => cidrs.some((cidr) => ipInBlock(ip, { cidr, except: [] })));
}
