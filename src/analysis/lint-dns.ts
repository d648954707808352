import { selectorMatches } from '../engine/selectors.ts';
import type { Labels, NetworkPolicy, PolicyPeer, PolicyRule, Snapshot } from '../model/types.ts';

/** Where a cluster's DNS servers run, and the pod ports they listen on (after the Service's DNAT). */
export interface DnsTarget {
  namespace: string;
  podLabels: Labels;
  ports: number[];
}

/**
 * CoreDNS / kube-dns as kubeadm, EKS, GKE and AKS label it, and OpenShift's DNS operator, whose pods
 * listen on 5353 behind the Service's port 53: NetworkPolicy sees the pod port, so 53 alone does not
 * reach them. An app repository rarely holds these namespaces, so they are matched by name and labels,
 * not by what the input contains.
 */
export const WELL_KNOWN_DNS: readonly DnsTarget[] = [
  { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, ports: [53] },
  {
    namespace: 'openshift-dns',
    podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' },
    ports: [5353],
  },
];

/** The container port names CoreDNS manifests use, for rules that name DNS ports on pods phiwall cannot see. */
const DNS_PORT_NAMES = new Set(['dns', 'dns-tcp']);

/** A namespace's labels as the input has them, or as the API server sets them on one it does not hold. */
function namespaceLabels(snapshot: Snapshot, namespace: string): Labels {
  return snapshot.namespaces.get(namespace)?.labels ?? { 'kubernetes.io/metadata.name': namespace };
}

/** Whether some peer of the rule selects the target's DNS pods (a rule without peers selects all). */
export function peersReachDns(
  snapshot: Snapshot,
  policy: NetworkPolicy,
  rule: PolicyRule,
  target: DnsTarget,
): boolean {
  if (rule.peers === undefined) return true;
  return rule.peers.some((peer) => {
    if (peer.kind !== 'pods') return false;
    const inNamespace = peer.namespaceSelector
      ? selectorMatches(peer.namespaceSelector, namespaceLabels(snapshot, target.namespace))
      : policy.namespace === target.namespace;
    return inNamespace && (!peer.podSelector || selectorMatches(peer.podSelector, target.podLabels));
  });
}

/** Whether the rule's ports admit one of `ports` over UDP or TCP; `named` resolves a named port. */
export function portsAdmit(
  rule: PolicyRule,
  ports: readonly number[],
  named: (name: string, protocol: 'UDP' | 'TCP') => boolean,
): boolean {
  if (rule.ports === undefined) return true;
  return rule.ports.some((port) => {
    if (port.protocol !== 'UDP' && port.protocol !== 'TCP') return false;
    if (port.port === undefined) return true;
    if (typeof port.port === 'string') return named(port.port, port.protocol);
    const [lo, hi] = [port.port, port.endPort ?? port.port];
    return ports.some((p) => lo <= p && p <= hi);
  });
}

/** Whether the rule lets the subject reach one of the DNS targets, wherever those pods run. */
export function admitsDnsTarget(
  snapshot: Snapshot,
  policy: NetworkPolicy,
  rule: PolicyRule,
  targets: readonly DnsTarget[],
): boolean {
  return targets.some(
    (target) =>
      peersReachDns(snapshot, policy, rule, target) &&
      portsAdmit(rule, target.ports, (name) => DNS_PORT_NAMES.has(name)),
  );
}

/** An egress rule to paste: to the DNS target the input most likely runs. */
export function dnsRuleSuggestion(snapshot: Snapshot, targets: readonly DnsTarget[]): string {
  const target = targets.find((t) => snapshot.namespaces.has(t.namespace)) ?? targets[0];
  if (!target) return 'Add an egress rule for UDP and TCP port 53 to the cluster DNS.';
  const ports = target.ports.flatMap((p) => [`{protocol: UDP, port: ${p}}`, `{protocol: TCP, port: ${p}}`]);
  const pods = Object.entries(target.podLabels).map(([k, v]) => `${k}: ${v}`);
  return `Add an egress rule to the cluster DNS, e.g. to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${target.namespace}}}${pods.length ? `, podSelector: {matchLabels: {${pods.join(', ')}}}` : ''}}], ports: [${ports.join(', ')}].`;
}

/** The namespaces a peer pins down by `kubernetes.io/metadata.name`, or undefined when it does not. */
export function namedNamespaces(peer: PolicyPeer): string[] | undefined {
  if (peer.kind !== 'pods' || !peer.namespaceSelector) return undefined;
  const key = 'kubernetes.io/metadata.name';
  const { matchLabels, matchExpressions } = peer.namespaceSelector;
  const byLabel = matchLabels[key];
  if (byLabel !== undefined) return [byLabel];
  const byExpression = matchExpressions.find((e) => e.key === key && e.operator === 'In');
  return byExpression ? [...byExpression.values] : undefined;
}
