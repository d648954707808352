import type { CalicoSelector } from './calico-selector.ts';
import type { Direction, Labels, Provenance } from './types.ts';

/**
 * Calico's own policy resources (projectcalico.org/v3, crd.projectcalico.org/v1), as Calico's
 * documentation defines them: docs.tigera.io/calico/latest/reference/resources/{networkpolicy,
 * globalnetworkpolicy,networkset,globalnetworkset,tier,profile}.
 */
export type CalicoAction = 'Allow' | 'Deny' | 'Log' | 'Pass';

/** A protocol by name, or by number where Calico has no name for it. */
export type CalicoProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMP' | 'ICMPv6' | 'UDPLite' | number;

/** One entry of `ports`/`notPorts`: a number, a `lo:hi` range, or a named port of the destination. */
export type CalicoPort = { kind: 'range'; from: number; to: number } | { kind: 'named'; name: string };

export interface EntityRule {
  nets?: readonly string[];
  notNets?: readonly string[];
  selector?: CalicoSelector;
  notSelector?: CalicoSelector;
  namespaceSelector?: CalicoSelector;
  /** Endpoints running as these service accounts (names, and/or labels of the ServiceAccount). */
  serviceAccounts?: { names: readonly string[]; selector?: CalicoSelector };
  /** The endpoints of a Kubernetes Service. */
  services?: { name: string; namespace?: string };
  ports?: readonly CalicoPort[];
  notPorts?: readonly CalicoPort[];
}

export interface CalicoRule {
  direction: Direction;
  index: number;
  action: CalicoAction;
  protocol?: CalicoProtocol;
  notProtocol?: CalicoProtocol;
  /** ICMP type/code matches: kept and shown, they never match TCP, UDP or SCTP. */
  icmp?: Readonly<Record<string, unknown>>;
  notICMP?: Readonly<Record<string, unknown>>;
  ipVersion?: 4 | 6;
  source: EntityRule;
  destination: EntityRule;
  provenance: Provenance;
}

export type CalicoPolicyKind = 'NetworkPolicy' | 'GlobalNetworkPolicy';

export interface CalicoPolicy {
  kind: CalicoPolicyKind;
  /** NetworkPolicy only. */
  namespace?: string;
  name: string;
  tier: string;
  /** Lower first; absent means after every ordered policy of the tier. */
  order?: number;
  selector: CalicoSelector;
  /** GlobalNetworkPolicy only: the namespaces whose endpoints it applies to. */
  namespaceSelector?: CalicoSelector;
  serviceAccountSelector?: CalicoSelector;
  /** Effective `types`, after Calico's defaulting. */
  types: { ingress: boolean; egress: boolean };
  ingress: readonly CalicoRule[];
  egress: readonly CalicoRule[];
  provenance: Provenance;
}

export interface CalicoTier {
  name: string;
  /** Lower first; absent means after every ordered tier. */
  order?: number;
  /** What happens to a connection that no policy of the tier decides, when the tier applies. */
  defaultAction: 'Deny' | 'Pass';
  provenance?: Provenance;
}

export interface CalicoNetworkSet {
  /** undefined for a GlobalNetworkSet. */
  namespace?: string;
  name: string;
  labels: Labels;
  nets: readonly string[];
  provenance: Provenance;
}

/** A Profile: rules applied after every tier passes (or none applies); no match means Deny. */
export interface CalicoProfile {
  name: string;
  ingress: readonly CalicoRule[];
  egress: readonly CalicoRule[];
  provenance: Provenance;
}

export interface CalicoResources {
  policies: readonly CalicoPolicy[];
  /** Tiers the input declares; `default` exists whether declared or not. */
  tiers: readonly CalicoTier[];
  networkSets: readonly CalicoNetworkSet[];
  profiles: readonly CalicoProfile[];
}

export const DEFAULT_TIER = 'default';
/** Calico's order for the default tier, and for Kubernetes NetworkPolicies inside it. */
export const DEFAULT_TIER_ORDER = 1_000_000;
export const KUBERNETES_POLICY_ORDER = 1000;
/** The default tier as Calico creates it when no Tier object says otherwise. */
export const DEFAULT_TIER_DEFINITION: CalicoTier = {
  name: DEFAULT_TIER,
  order: DEFAULT_TIER_ORDER,
  defaultAction: 'Deny',
};

/** `NetworkPolicy ns/name` or `GlobalNetworkPolicy name`. */
export function calicoPolicyId(policy: CalicoPolicy): string {
  return `${policy.kind} ${policy.namespace ? `${policy.namespace}/` : ''}${policy.name}`;
}

/** Tier order: by `order` (absent last), then by name, as Calico sorts them. */
export function compareOrder(
  a: { order?: number; name: string },
  b: { order?: number; name: string },
): number {
  const ao = a.order ?? Number.POSITIVE_INFINITY;
  const bo = b.order ?? Number.POSITIVE_INFINITY;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
