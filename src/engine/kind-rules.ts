import type { Direction, Provenance } from '../model/types.ts';
import type { IntervalSet } from './intervals.ts';
import type { PodClass } from './pod-classes.ts';
import type { PortSet } from './ports.ts';

/**
 * How policy kinds beyond NetworkPolicy and the Admin/Baseline tiers (Cilium, Calico) enter the one
 * engine: an adapter compiles each policy to ordered rules with an action over peer classes, external
 * addresses and ports, at a level of the tier walk. The engine walks the levels in order; within a
 * level each port goes to the first rule (by `order`) that matches it; a level that `isolates` the
 * subject denies what no rule decided, others hand it on; Pass hands it to the next level.
 */
export type TierAction = 'Allow' | 'Deny' | 'Pass';

/** Levels of the walk, numbered as Calico orders its tiers, so any kind can place a tier among them. */
export const ADMIN_LEVEL = 1000;
export const NETWORK_POLICY_LEVEL = 1_000_000;
export const BASELINE_LEVEL = 10_000_000;
/** Where NetworkPolicy's allows sit within their level (Calico gives Kubernetes policies order 1000). */
export const NETWORK_POLICY_ORDER = 1000;

/** What explanations show of a rule: its kind, policy, rule and where it is written. */
export interface RuleOrigin {
  kind: string;
  /** e.g. `CiliumNetworkPolicy/shop/deny-world`. */
  policy: string;
  /** e.g. `CiliumNetworkPolicy/shop/deny-world egressDeny[0]`. */
  rule: string;
  provenance: Provenance;
  /** e.g. `L7-filtered (http)`: the rule allows at L4 and a proxy then filters. */
  note?: string;
}

export interface KindRule {
  id: number;
  action: TierAction;
  /** Sort key within the level; equal keys keep the adapter's order. */
  order: number;
  /** Peer classes the rule matches. */
  classes: ReadonlySet<number>;
  /** External addresses it matches. */
  addresses: IntervalSet<bigint>;
  /** The ports when they do not depend on the destination (no named port). */
  numericPorts?: PortSet;
  /** The ports at a destination (named ports resolve on it; undefined: an external address). */
  ports(destination: PodClass | undefined): PortSet;
  origin: RuleOrigin;
  /** Peers known by name only (Cilium's toFQDNs, as `fqdn:<pattern>`), whose addresses are unknown offline. */
  names?: readonly string[];
  /** The rule matches every address outside the cluster, so whatever address a name resolves to. */
  matchesEveryName?: boolean;
}

export interface KindPolicy {
  level: number;
  /** The level's name in explanations: `NetworkPolicy` for kinds that share NetworkPolicy's level. */
  tier: string;
  subjects: ReadonlySet<number>;
  /** Whether selecting a subject isolates it in that direction (what no rule allows is denied). */
  isolates: Record<Direction, boolean>;
  /** Why it isolates a subject or not, per direction, for explanations (`enableDefaultDeny.ingress: false`). */
  isolationNote?: Record<Direction, string>;
  rules: Record<Direction, readonly KindRule[]>;
  origin: Omit<RuleOrigin, 'rule' | 'note'>;
}

export function isKindRule(rule: unknown): rule is KindRule {
  return typeof rule === 'object' && rule !== null && 'origin' in rule;
}
