import type { Direction, Labels, Protocol, Provenance, SelectorOperator } from './types.ts';

export type CiliumPolicyKind = 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy';

/**
 * A Cilium endpoint selector. Keys carry their label source, as Cilium writes them: `k8s:app`,
 * `reserved:host`; a key written without a source is stored as `any:<key>` (matches every source).
 */
export interface CiliumSelector {
  matchLabels: Labels;
  matchExpressions: readonly { key: string; operator: SelectorOperator; values: readonly string[] }[];
}

/** Cilium's reserved identities that policies name as entities. */
export const CILIUM_ENTITIES = [
  'all',
  'world',
  'world-ipv4',
  'world-ipv6',
  'cluster',
  'host',
  'remote-node',
  'kube-apiserver',
  'ingress',
  'health',
  'init',
  'unmanaged',
] as const;
export type CiliumEntity = (typeof CILIUM_ENTITIES)[number];

export type CiliumPeer =
  /** fromEndpoints/toEndpoints; `selector` already carries the implicit namespace of a namespaced policy. */
  | { kind: 'endpoints'; selector: CiliumSelector }
  | { kind: 'entity'; entity: CiliumEntity }
  /** fromCIDR/fromCIDRSet: addresses outside the cluster only. */
  | { kind: 'cidr'; cidr: string; except: readonly string[] }
  /** fromCIDRSet.cidrGroupRef or cidrGroupSelector: CiliumCIDRGroups, resolved against the snapshot. */
  | { kind: 'cidrGroup'; ref?: string; selector?: CiliumSelector; except: readonly string[] }
  | { kind: 'nodes'; selector: CiliumSelector }
  /** toFQDNs: addresses unknown offline. */
  | { kind: 'fqdn'; pattern: string }
  /** toServices: only services without selectors, whose endpoints the snapshot does not hold. */
  | { kind: 'service'; description: string };

export interface CiliumPort {
  /** undefined: every port. */
  port?: number | string;
  endPort?: number;
  /** `ANY` is TCP, UDP and SCTP. */
  protocols: readonly Protocol[];
}

export interface CiliumRule {
  direction: Direction;
  deny: boolean;
  /** `ingress`, `ingressDeny`, `egress` or `egressDeny`, with the spec index for `specs`. */
  field: string;
  index: number;
  /** undefined: the rule names no layer-3 peer, so every peer is matched (if it names ports). */
  peers?: readonly CiliumPeer[];
  /** toPorts entries; undefined when the rule has no toPorts. */
  ports?: readonly CiliumPort[];
  /** ICMP types (IPv4 and IPv6 together); undefined when the rule has no icmps. */
  icmpTypes?: readonly number[];
  /** The L7 rule kinds of toPorts (`http`, `dns`, `kafka`, `l7`), when any: allowed at L4, then filtered. */
  l7?: readonly string[];
  /** The names and patterns its L7 DNS rules (`rules.dns`) let through, lowercased, without the final dot. */
  dns?: readonly string[];
  /** fromRequires/toRequires: every peer of the subject in this direction must also match these. */
  requires?: readonly CiliumSelector[];
  provenance: Provenance;
}

export interface CiliumPolicy {
  kind: CiliumPolicyKind;
  /** '' for CiliumClusterwideNetworkPolicy. */
  namespace: string;
  name: string;
  /** `spec` or `specs[i]`: each is a rule set of its own. */
  specPath: string;
  /** The endpoints the rules apply to; carries the implicit namespace of a namespaced policy. */
  endpointSelector: CiliumSelector;
  /** enableDefaultDeny, defaulted: true unless written false. */
  defaultDeny: Record<Direction, boolean>;
  ingress: readonly CiliumRule[];
  egress: readonly CiliumRule[];
  provenance: Provenance;
}

export interface CiliumCidrGroup {
  name: string;
  labels: Labels;
  cidrs: readonly string[];
  provenance: Provenance;
}

/** `CiliumNetworkPolicy/ns/name` or `CiliumClusterwideNetworkPolicy/name`, plus `specs[i]` when there are several. */
export function ciliumPolicyId(policy: CiliumPolicy): string {
  const name = policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;
  return `${policy.kind}/${name}${policy.specPath === 'spec' ? '' : ` ${policy.specPath}`}`;
}

export function ciliumRuleId(policy: CiliumPolicy, rule: CiliumRule): string {
  return `${ciliumPolicyId(policy)} ${rule.field}[${rule.index}]`;
}

/** The labels Cilium gives a namespaced policy's own namespace to every selector that names none. */
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const SERVICE_ACCOUNT_LABEL = 'io.cilium.k8s.policy.serviceaccount';
export const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
/** Cilium's default `cluster-name`. */
export const DEFAULT_CLUSTER_NAME = 'default';
