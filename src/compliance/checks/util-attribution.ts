import type { Connection } from '../../analysis/connectivity.ts';
import {
  ALL_ADDRESSES,
  clusterPeerAddresses,
  formatAddress,
  ipBlockAddresses,
} from '../../engine/addresses.ts';
import { portsOf } from '../../engine/compile.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { type IntervalSet, intersect, union } from '../../engine/intervals.ts';
import { cutsOf } from '../../engine/pod-classes.ts';
import { formatPorts, intersectPorts, isEmptyPorts, type PortSet, unionPorts } from '../../engine/ports.ts';
import {
  type ClusterRule,
  clusterRuleId,
  type Direction,
  type NetworkPolicy,
  type PolicyRule,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import { PEER_FIELD } from '../remediation/manifests.ts';
import type { AuditContext, Evidence } from '../types.ts';
import { addressSet, locationOf, onePodPerClass } from './support.ts';
import {
  type AllowingRule,
  allowingRules,
  clusterRulesOf,
  isIsolated,
  isolationOf,
  type TierRule,
  tierRuleText,
  uniqueRules,
} from './tier-support.ts';

/** Large clusters can have hundreds of edges per workload; the report shows the first ones and a count. */
const MAX_EDGES = 20;

export function ruleRef(policy: NetworkPolicy, rule: PolicyRule, peer?: number): string {
  const base = `${policy.namespace}/${policy.name}#spec.${rule.direction}[${rule.index}]`;
  return peer === undefined ? base : `${base}.${PEER_FIELD[rule.direction]}[${peer}]`;
}

/**
 * A rule behind an allowed edge: a NetworkPolicy rule, or an Admin- or Baseline-tier rule that allowed
 * it (or passed it on to be allowed), with the ports it accounts for.
 */
export type Responsible = AllowingRule;
export type NetworkPolicyResponsible = Extract<Responsible, { kind: 'networkPolicy' }>;

export function isNetworkPolicyRule(r: Responsible): r is NetworkPolicyResponsible {
  return r.kind === 'networkPolicy';
}

export interface WorkloadIsolation {
  /** Isolated by a NetworkPolicy or, failing that, by Admin/Baseline-tier Deny rules (tier-support.ts). */
  isolated: boolean;
  hostNetwork: boolean;
  /** The NetworkPolicies isolating it. */
  policies: NetworkPolicy[];
  /** When no NetworkPolicy isolates a pod of it: the cluster rules that select it, and why they leave it open. */
  tierRules: TierRule[];
  reasons: string[];
  /** The Admin/Baseline Deny rules that isolate pods of it that no NetworkPolicy isolates. */
  byTiers: TierRule[];
}

export function workloadIsolation(
  context: AuditContext,
  workload: Workload,
  direction: Direction,
): WorkloadIsolation {
  const policies = new Set<NetworkPolicy>();
  const tierRules: TierRule[] = [];
  const reasons = new Set<string>();
  let hostNetwork = false;
  let open = false;
  const byTiers: TierRule[] = [];
  for (const pod of onePodPerClass(context, workload)) {
    const isolation = isolationOf(context, pod, direction);
    hostNetwork ||= isolation.kind === 'hostNetwork';
    if (isolation.kind === 'networkPolicy') for (const policy of isolation.policies) policies.add(policy);
    if (isolation.kind === 'tiers') byTiers.push(...isolation.rules);
    if (isolation.kind === 'open') {
      tierRules.push(...isolation.rules);
      for (const reason of isolation.reasons) reasons.add(reason);
    }
    if (!isIsolated(isolation)) open = true;
  }
  return {
    isolated: !open,
    hostNetwork,
    policies: [...policies],
    tierRules: uniqueRules(tierRules),
    reasons: [...reasons],
    byTiers: uniqueRules(byTiers),
  };
}

/** External addresses a rule admits: the engine's reading (no peers: all; else its ipBlocks). */
function ruleAddresses(rule: PolicyRule): IntervalSet<bigint> {
  if (rule.peers === undefined) return ALL_ADDRESSES;
  let set: IntervalSet<bigint> = [];
  for (const peer of rule.peers)
    if (peer.kind === 'ipBlock') set = union(set, ipBlockAddresses(peer.ipBlock));
  return set;
}

function clusterRuleAddresses(context: AuditContext, rule: ClusterRule): IntervalSet<bigint> {
  let set: IntervalSet<bigint> = [];
  for (const peer of rule.peers)
    if (peer.kind !== 'pods') set = union(set, clusterPeerAddresses(peer, context.snapshot.nodes));
  return set;
}

function addResponsible(found: Map<unknown, Responsible>, entry: Responsible, ports?: PortSet): void {
  const granted = ports ? intersectPorts(entry.ports, ports) : entry.ports;
  if (isEmptyPorts(granted)) return;
  const previous = found.get(entry.rule);
  found.set(entry.rule, { ...entry, ports: previous ? unionPorts(previous.ports, granted) : granted });
}

/**
 * The rules that admit some of `addresses` on some of `ports`. Named ports resolve on the destination:
 * the workload itself for ingress, nothing for egress. Without Admin/Baseline-tier rules, the rules of
 * the workload's isolating policies, read directly; with them, the engine is asked once per piece of
 * the addresses that every rule involved treats alike, so that only what the tiers let through counts.
 */
export function rulesForAddresses(
  context: AuditContext,
  workload: Workload,
  direction: Direction,
  addresses: IntervalSet<bigint>,
  ports?: PortSet,
): Responsible[] {
  const found = new Map<unknown, Responsible>();
  for (const pod of onePodPerClass(context, workload)) {
    const side = context.engine.explainSide(pod, { ip: '0.0.0.0' }, direction);
    const tierRules = clusterRulesOf(context, pod, direction);
    if (tierRules.length > 0) {
      const sets = [
        addresses,
        ...side.isolatedBy.flatMap((policy) => policy[direction].map(ruleAddresses)),
        ...tierRules.map(({ rule }) => clusterRuleAddresses(context, rule)),
      ];
      for (const probe of probesOf(addresses, cutsOf(sets))) {
        const probed = context.engine.explainSide(pod, { ip: formatAddress(probe) }, direction);
        for (const entry of allowingRules(probed)) addResponsible(found, entry, ports);
      }
      continue;
    }
    const destination = direction === 'ingress' ? context.engine.classOf(pod) : undefined;
    for (const policy of side.isolatedBy) {
      for (const rule of policy[direction]) {
        if (intersect(ruleAddresses(rule), addresses).length === 0) continue;
        addResponsible(
          found,
          { kind: 'networkPolicy', policy, rule, ports: portsOf(rule.ports, destination) },
          ports,
        );
      }
    }
  }
  return [...found.values()];
}

/** One address per piece of `addresses` between consecutive cuts: every rule treats a piece alike. */
function probesOf(addresses: IntervalSet<bigint>, cuts: readonly bigint[]): bigint[] {
  const probes: bigint[] = [];
  for (const [lo, hi] of addresses) {
    probes.push(lo);
    for (const cut of cuts) if (cut > lo && cut <= hi) probes.push(cut);
  }
  return probes;
}

/**
 * The rules that admit a workload peer, per the engine's explanation, optionally limited to ports;
 * Admin- and Baseline-tier rules among them where they decided.
 */
export function rulesForWorkload(
  context: AuditContext,
  subject: Workload,
  peer: Workload,
  direction: Direction,
  ports?: PortSet,
): Responsible[] {
  const found = new Map<unknown, Responsible>();
  for (const pod of onePodPerClass(context, subject)) {
    for (const other of onePodPerClass(context, peer)) {
      const endpoint: Endpoint = { pod: other };
      for (const entry of allowingRules(context.engine.explainSide(pod, endpoint, direction)))
        addResponsible(found, entry, ports);
    }
  }
  return [...found.values()];
}

/** The responsible rules of one edge, whichever kind of peer it has. */
export function rulesForConnection(
  context: AuditContext,
  subject: Workload,
  connection: Connection,
  direction: Direction,
  ports?: PortSet,
): Responsible[] {
  const peer = direction === 'ingress' ? connection.src : connection.dst;
  if ('external' in peer)
    return rulesForAddresses(context, subject, direction, addressSet(peer.external), ports);
  const workload = context.workloadById.get(peer.workload);
  return workload ? rulesForWorkload(context, subject, workload, direction, ports) : [];
}

export function responsibleRef(r: Responsible): string {
  return r.kind === 'tier' ? clusterRuleId(r.policy, r.rule) : ruleRef(r.policy, r.rule);
}

export function ruleEntries(responsible: readonly Responsible[]): NonNullable<Evidence['rules']> {
  const seen = new Set<string>();
  const out: NonNullable<Evidence['rules']> = [];
  for (const r of responsible) {
    const ref = responsibleRef(r);
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push({
      rule:
        r.kind === 'tier'
          ? tierRuleText(r.policy, r.rule, r.action, r.ports)
          : `${ref} (${formatPorts(r.ports)})`,
      at: where(r.rule.provenance),
    });
  }
  return out;
}

export function cappedEdges(edges: readonly string[]): { edges: string[]; notes: string[] } {
  if (edges.length <= MAX_EDGES) return { edges: [...edges], notes: [] };
  return {
    edges: edges.slice(0, MAX_EDGES),
    notes: [`${edges.length - MAX_EDGES} more edges not shown (see \`phiwall connectivity\`)`],
  };
}

export function restrictPorts(connection: Connection, ports: PortSet): Connection {
  return { ...connection, ports: intersectPorts(connection.ports, ports) };
}

export function opennessNotes(isolation: WorkloadIsolation, direction: Direction): string[] {
  if (isolation.hostNetwork)
    return ['a pod of it uses hostNetwork: NetworkPolicy does not govern its traffic (see HIPAA-NP-023)'];
  if (!isolation.isolated) {
    const check = direction === 'ingress' ? 'HIPAA-NP-005' : 'HIPAA-NP-006';
    if (isolation.tierRules.length > 0)
      return [
        `not ${direction}-isolated: no NetworkPolicy selects it for ${direction} and the Admin/Baseline-tier rules that select it (${[
          ...new Set(isolation.tierRules.map((r) => clusterRuleId(r.policy, r.rule))),
        ].join(', ')}) do not deny by default, so what they do not decide is allowed (see ${check})`,
      ];
    return [
      `not ${direction}-isolated: no NetworkPolicy selects it for ${direction}, so all is allowed (see ${check})`,
    ];
  }
  if (direction === 'ingress' && isolation.byTiers.length > 0)
    return [
      `isolated from pods by the Admin/Baseline tier (${isolation.byTiers.map((r) => clusterRuleId(r.policy, r.rule)).join(', ')}), not by a NetworkPolicy: those ingress rules cannot name sources outside the cluster, which are allowed by default`,
    ];
  return [];
}

export function findingLocation(
  responsible: readonly Responsible[],
  workload: Workload,
): { file: string; line: number } {
  const first = responsible[0];
  return locationOf(first ? first.rule.provenance : workload.provenance);
}
