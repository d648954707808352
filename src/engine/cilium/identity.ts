import {
  type CiliumCidrGroup,
  type CiliumPeer,
  type CiliumSelector,
  CLUSTER_LABEL,
  DEFAULT_CLUSTER_NAME,
  NAMESPACE_LABELS_PREFIX,
  POD_NAMESPACE_LABEL,
  SERVICE_ACCOUNT_LABEL,
} from '../../model/cilium.ts';
import type { Labels, Node, Pod, Snapshot } from '../../model/types.ts';

/**
 * Cilium's Helm chart keeps the agent off nodes labelled `cilium.io/no-schedule=true` (its default node
 * affinity): such a node is no Cilium node, and Cilium classifies its addresses as `world`.
 */
export const NO_SCHEDULE_LABEL = 'cilium.io/no-schedule';

export function ciliumNodes(nodes: readonly Node[]): Node[] {
  return nodes.filter((node) => node.labels[NO_SCHEDULE_LABEL] !== 'true');
}

/**
 * The labels Cilium matches a pod's selectors against (source-qualified): the pod's own labels and those
 * Cilium derives, namespace, service account, cluster name and the namespace's labels.
 */
export function podIdentityLabels(
  pod: Pick<Pod, 'namespace' | 'labels' | 'serviceAccount'>,
  namespaceLabels: Labels,
): Labels {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(pod.labels)) labels[`k8s:${key}`] = value;
  for (const [key, value] of Object.entries(namespaceLabels))
    labels[`k8s:${NAMESPACE_LABELS_PREFIX}${key}`] = value;
  labels[`k8s:${POD_NAMESPACE_LABEL}`] = pod.namespace;
  labels[`k8s:${SERVICE_ACCOUNT_LABEL}`] = pod.serviceAccount ?? 'default';
  labels[`k8s:${CLUSTER_LABEL}`] = DEFAULT_CLUSTER_NAME;
  return labels;
}

/** Node labels as Cilium's node selectors see them. */
export function nodeIdentityLabels(node: Node): Labels {
  return Object.fromEntries(Object.entries(node.labels).map(([k, v]) => [`k8s:${k}`, v]));
}

/**
 * The identities of the addresses that are no Cilium endpoint. phiwall does not know which node a pod
 * runs on from manifests, so `host` and `remote-node` are one identity here: every Cilium node.
 */
export const NODE_IDENTITY: Labels = { 'reserved:host': '', 'reserved:remote-node': '' };
export const WORLD_IDENTITY: Labels = { 'reserved:world': '' };

function lookup(labels: Labels, key: string): string | undefined {
  if (Object.hasOwn(labels, key)) return labels[key];
  if (!key.startsWith('any:')) return undefined;
  const name = key.slice(4);
  for (const source of ['k8s', 'reserved']) {
    if (Object.hasOwn(labels, `${source}:${name}`)) return labels[`${source}:${name}`];
  }
  return undefined;
}

/** A Kubernetes label selector over source-qualified keys; `any:` matches a label of any source. */
export function ciliumSelectorMatches(selector: CiliumSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (lookup(labels, key) !== value) return false;
  }
  for (const { key, operator, values } of selector.matchExpressions) {
    const value = lookup(labels, key);
    const has = value !== undefined;
    if (operator === 'In' && !(has && values.includes(value))) return false;
    if (operator === 'NotIn' && has && values.includes(value)) return false;
    if (operator === 'Exists' && !has) return false;
    if (operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** The CIDRs (each with the rule's excepts) a fromCIDR/fromCIDRSet peer stands for. */
export function peerCidrs(
  peer: Extract<CiliumPeer, { kind: 'cidr' | 'cidrGroup' }>,
  groups: readonly CiliumCidrGroup[],
): { cidr: string; except: readonly string[] }[] {
  if (peer.kind === 'cidr') return [{ cidr: peer.cidr, except: peer.except }];
  const matching = groups.filter((g) =>
    peer.ref !== undefined
      ? g.name === peer.ref
      : peer.selector !== undefined &&
        ciliumSelectorMatches(
          peer.selector,
          Object.fromEntries(Object.entries(g.labels).map(([k, v]) => [`k8s:${k}`, v])),
        ),
  );
  return matching.flatMap((g) => g.cidrs.map((cidr) => ({ cidr, except: peer.except })));
}

/** Whether the snapshot needs Cilium's view (its policies, or the identities it derives). */
export function hasCiliumPolicies(snapshot: Snapshot): boolean {
  return snapshot.ciliumPolicies.length > 0;
}

/** A pod's labels as NetworkPolicy selectors see them under Cilium: its own and the derived ones, unprefixed. */
export function selectorLabels(pod: Pod, namespaceLabels: Labels): Labels {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(podIdentityLabels(pod, namespaceLabels)))
    labels[key.slice(4)] = value;
  return labels;
}
