/**
 * What the Admin and Baseline tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy)
 * mean for the structural checks: which cluster rules apply to a pod, which of them allowed a connection,
 * and whether a pod that no NetworkPolicy isolates is still denied by default.
 *
 * Connectivity already comes from the engine, tiers included. What is answered here is what the engine
 * cannot answer by itself: whether *anything not explicitly allowed* is denied, which includes pods of
 * namespaces created later and addresses no rule names. For pods that exist, the engine's tier walk
 * (`explainSide(...).tiers`) is the answer; for the rest, the rules are walked in the engine's order
 * (Admin by priority, NetworkPolicy, Baseline), conservatively: a Pass that may match is a hole.
 */

import { ALL_ADDRESSES, clusterPeerAddresses, toCidrs } from '../../engine/addresses.ts';
import { clusterPortsOf } from '../../engine/compile.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import type { SideExplanation } from '../../engine/engine.ts';
import { type IntervalSet, intersect, subtract, union } from '../../engine/intervals.ts';
import type { KindPolicy } from '../../engine/kind-rules.ts';
import {
  ALL_PORTS,
  equalPorts,
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  unionPorts,
} from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  actionWord,
  type ClusterAction,
  type ClusterPolicy,
  type ClusterRule,
  clusterPolicyOrder,
  clusterRuleId,
  type Direction,
  type LabelSelector,
  type NetworkPolicy,
  type Pod,
  type PolicyRule,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext } from '../types.ts';

/** One rule of an Admin- or Baseline-tier policy. */
export interface TierRule {
  policy: ClusterPolicy;
  rule: ClusterRule;
}

/** The label every namespace carries; a namespace created later carries only it, as far as anyone knows. */
export const UNSEEN_NAMESPACE = { 'kubernetes.io/metadata.name': 'phiwall-unseen-namespace' };

/** A probe address for one-direction questions whose answer does not depend on the peer. */
const PROBE: Endpoint = { ip: '203.0.113.10' };

export function isEmptySelector(selector: LabelSelector | undefined): boolean {
  return (
    selector === undefined ||
    (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0)
  );
}

/** `AdminNetworkPolicy/x ingress[0] "allow-monitoring" (Allow TCP 443)`, the evidence form of a tier rule. */
export function tierRuleText(
  policy: ClusterPolicy,
  rule: ClusterRule,
  action: ClusterAction,
  ports?: PortSet,
) {
  const detail = ports ? `${actionWord(policy, action)} ${formatPorts(ports)}` : actionWord(policy, action);
  return `${clusterRuleId(policy, rule)} (${detail})`;
}

export function tierRuleEvidence(
  { policy, rule }: TierRule,
  action: ClusterAction = rule.action,
  ports?: PortSet,
): { rule: string; at: string } {
  return { rule: tierRuleText(policy, rule, action, ports), at: where(rule.provenance) };
}

/** The rules once each, in first-seen order (rule objects are rebuilt per pod class). */
export function uniqueRules(rules: Iterable<TierRule>): TierRule[] {
  const seen = new Map<ClusterRule, TierRule>();
  for (const entry of rules) if (!seen.has(entry.rule)) seen.set(entry.rule, entry);
  return [...seen.values()];
}

/** `AdminNetworkPolicy/x ingress[0] "deny-rest" (file:12)`, for notes. */
export function tierRuleNote({ policy, rule }: TierRule): string {
  return `${clusterRuleId(policy, rule)} (${where(rule.provenance)})`;
}

/** Cluster policies in evaluation order: the Admin tier by priority, then the Baseline tier. */
function orderedPolicies(context: AuditContext): ClusterPolicy[] {
  const all = context.snapshot.clusterPolicies;
  return [
    ...all.filter((p) => p.tier === 'Admin').sort(clusterPolicyOrder),
    ...all.filter((p) => p.tier === 'Baseline').sort(clusterPolicyOrder),
  ];
}

export function hasClusterPolicies(context: AuditContext): boolean {
  return context.snapshot.clusterPolicies.length > 0;
}

const selectingCache = new WeakMap<AuditContext, Map<number, ClusterPolicy[]>>();

/**
 * The cluster policies whose subject selects the pod, in evaluation order; none for pods outside policy
 * (hostNetwork under `--host-network node`), which selectors never see.
 */
export function selectingPolicies(context: AuditContext, pod: Pod): ClusterPolicy[] {
  if (!hasClusterPolicies(context)) return [];
  const podClass = context.engine.classOf(pod);
  let cache = selectingCache.get(context);
  if (!cache) {
    cache = new Map();
    selectingCache.set(context, cache);
  }
  let found = cache.get(podClass.id);
  if (!found) {
    const labels = context.snapshot.namespaces.get(pod.namespace)?.labels;
    found =
      podClass.hostNetwork || !labels
        ? []
        : orderedPolicies(context).filter(
            (p) =>
              selectorMatches(p.subject.namespaceSelector, labels) &&
              (!p.subject.podSelector || selectorMatches(p.subject.podSelector, pod.labels)),
          );
    cache.set(podClass.id, found);
  }
  return found;
}

/** The Admin- and Baseline-tier rules that apply to the pod in one direction, in evaluation order. */
export function clusterRulesOf(context: AuditContext, pod: Pod, direction: Direction): TierRule[] {
  return selectingPolicies(context, pod).flatMap((policy) =>
    policy[direction].map((rule) => ({ policy, rule })),
  );
}

/** Cluster policies whose subject takes in every pod of a namespace, present or future. */
export function policiesForWholeNamespace(context: AuditContext, namespace: string): ClusterPolicy[] {
  const labels = context.snapshot.namespaces.get(namespace)?.labels;
  if (!labels || !hasClusterPolicies(context)) return [];
  return orderedPolicies(context).filter(
    (p) => selectorMatches(p.subject.namespaceSelector, labels) && isEmptySelector(p.subject.podSelector),
  );
}

function allPorts(rule: ClusterRule): boolean {
  return rule.ports === undefined || equalPorts(clusterPortsOf(rule.ports, undefined), ALL_PORTS);
}

// ---------------------------------------------------------------------------------------------------
// Which rules allowed one direction of a connection

export type AllowingRule =
  | { kind: 'networkPolicy'; policy: NetworkPolicy; rule: PolicyRule; ports: PortSet }
  | { kind: 'tier'; policy: ClusterPolicy; rule: ClusterRule; action: 'Allow' | 'Pass'; ports: PortSet };

/**
 * The rules behind what one side allows, in evaluation order. Without Admin- or Baseline-tier rules
 * this is `admittedBy`, as it always was. With them: the Admin and Baseline Allow rules that decided
 * ports, the Pass rules whose ports were then allowed further on, and the NetworkPolicy rules limited
 * to the ports the NetworkPolicy tier decided (an Admin Deny overrides what they admit).
 */
export function allowingRules(side: SideExplanation): AllowingRule[] {
  const admitted = side.admittedBy.map(
    ({ policy, rule, ports }): AllowingRule => ({ kind: 'networkPolicy', policy, rule, ports }),
  );
  if (side.tiers.length === 0) return admitted;
  const out: AllowingRule[] = [];
  for (const step of side.tiers) {
    if (step.tier === 'NetworkPolicy') {
      if (step.action !== 'Allow') continue;
      for (const entry of admitted) {
        if (entry.kind !== 'networkPolicy') continue;
        const ports = intersectPorts(entry.ports, step.ports);
        if (!isEmptyPorts(ports)) out.push({ ...entry, ports });
      }
      continue;
    }
    if (!step.rule || step.action === 'Deny') continue;
    // A Pass names why the ports went on; it counts where they were allowed in the end.
    const ports = step.action === 'Pass' ? intersectPorts(step.ports, side.ports) : step.ports;
    if (isEmptyPorts(ports)) continue;
    const { policy, rule } = step.rule;
    out.push({ kind: 'tier', policy, rule, action: step.action, ports });
  }
  return out;
}

/** The ports of one side that fell through every tier to the default allow. */
export function defaultAllowed(side: SideExplanation): PortSet {
  return side.tiers
    .filter((s) => s.tier === 'Default')
    .reduce((acc, s) => unionPorts(acc, s.ports), NO_PORTS);
}

// ---------------------------------------------------------------------------------------------------
// Deny by default: whether what no rule allows is denied

type Match = 'all' | 'some' | 'none';

/**
 * How a rule's peers match a pod of a namespace created later, whose labels no one knows yet: every
 * such pod (a `namespaces: {}` peer, or `pods` with both selectors empty), some, or none. Address peers
 * are left to the address walk: they match pods only by IP, which a pod of a workload template lacks.
 */
function futurePodMatch(rule: ClusterRule): Match {
  let best: Match = 'none';
  for (const peer of rule.peers) {
    if (peer.kind !== 'pods') continue;
    if (isEmptySelector(peer.namespaceSelector) && isEmptySelector(peer.podSelector)) return 'all';
    if (selectorMatches(peer.namespaceSelector, UNSEEN_NAMESPACE)) best = 'some';
  }
  return best;
}

function ruleAddresses(context: AuditContext, rule: ClusterRule): IntervalSet<bigint> {
  let set: IntervalSet<bigint> = [];
  for (const peer of rule.peers)
    if (peer.kind !== 'pods') set = union(set, clusterPeerAddresses(peer, context.snapshot.nodes));
  return set;
}

export type Walk = { closedBy: TierRule[] } | { reason: string };

/**
 * The tier walk for "a pod of a namespace created later" as peer: denied by default when a Deny rule
 * matching every pod of every namespace on every port decides it before anything hands it on (a Pass
 * that may match it) or allows it all (an Allow matching every pod).
 */
function futurePodWalk(rules: readonly TierRule[], what: string): Walk {
  let passedBy: TierRule | undefined;
  let adminDeny: TierRule | undefined;
  for (const entry of rules) {
    if (entry.policy.tier !== 'Admin') continue;
    const match = futurePodMatch(entry.rule);
    if (match === 'none') continue;
    const whole = match === 'all' && allPorts(entry.rule);
    if (entry.rule.action === 'Pass') {
      passedBy ??= entry;
      if (whole) break;
      continue;
    }
    if (!whole) continue;
    if (entry.rule.action === 'Allow')
      return { reason: `${tierRuleNote(entry)} allows every pod of every namespace` };
    adminDeny = entry;
    break;
  }
  if (adminDeny && !passedBy) return { closedBy: [adminDeny] };
  // The rest, or what a Pass handed on, reaches NetworkPolicy (which does not isolate), then Baseline.
  for (const entry of rules) {
    if (entry.policy.tier !== 'Baseline') continue;
    const match = futurePodMatch(entry.rule);
    if (match === 'none') continue;
    if (entry.rule.action === 'Pass')
      return { reason: `${tierRuleNote(entry)} hands ${what} to the default, which allows it` };
    if (match !== 'all' || !allPorts(entry.rule)) continue;
    if (entry.rule.action === 'Allow')
      return { reason: `${tierRuleNote(entry)} allows every pod of every namespace` };
    return { closedBy: adminDeny ? [adminDeny, entry] : [entry] };
  }
  if (passedBy)
    return {
      reason: `${tierRuleNote(passedBy)} passes ${what} to NetworkPolicy, which does not isolate it, and no Baseline-tier Deny catches it: allowed by default`,
    };
  return {
    reason: `no Deny rule for every pod of every namespace (a namespaces: {} peer, all ports): ${what} is allowed by default`,
  };
}

/** The same walk over addresses (egress): every address must reach a Deny rule, none the default. */
function addressWalk(context: AuditContext, rules: readonly TierRule[]): Walk {
  let remaining: IntervalSet<bigint> = ALL_ADDRESSES;
  let passed: IntervalSet<bigint> = [];
  let denied: IntervalSet<bigint> = [];
  const deniers: TierRule[] = [];
  let passRule: TierRule | undefined;
  for (const entry of rules) {
    if (entry.policy.tier !== 'Admin') continue;
    const hit = intersect(ruleAddresses(context, entry.rule), remaining);
    if (hit.length === 0) continue;
    const whole = allPorts(entry.rule);
    if (entry.rule.action === 'Pass') {
      passRule ??= entry;
      passed = union(passed, hit);
      if (whole) remaining = subtract(remaining, hit);
      continue;
    }
    if (!whole) continue;
    remaining = subtract(remaining, hit);
    if (entry.rule.action === 'Deny') {
      deniers.push(entry);
      denied = union(denied, hit);
    }
  }
  let open = union(remaining, passed);
  for (const entry of rules) {
    if (entry.policy.tier !== 'Baseline') continue;
    const hit = intersect(ruleAddresses(context, entry.rule), open);
    if (hit.length === 0) continue;
    if (entry.rule.action === 'Pass')
      return {
        reason: `${tierRuleNote(entry)} hands ${cidrList(hit)} to the default, which allows them`,
      };
    if (!allPorts(entry.rule)) continue;
    open = subtract(open, hit);
    if (entry.rule.action === 'Deny') {
      deniers.push(entry);
      denied = union(denied, hit);
    }
  }
  if (open.length > 0) {
    const how =
      intersect(open, passed).length > 0 && passRule ? ` (${tierRuleNote(passRule)} passes some)` : '';
    return {
      reason: `no Deny rule (networks, all ports) covers ${cidrList(open)}: allowed by default${how}`,
    };
  }
  if (denied.length === 0) return { reason: 'Allow rules allow every address' };
  return { closedBy: deniers };
}

function cidrList(set: IntervalSet<bigint>): string {
  const cidrs = toCidrs(set);
  return cidrs.length > 3
    ? `${cidrs.slice(0, 3).join(', ')} and ${cidrs.length - 3} more block(s)`
    : cidrs.join(', ');
}

/**
 * Existing peers, by the engine: any port that falls through to the default is allowed by default. Only
 * a Pass can open such a hole once the walks above have closed (a `namespaces: {}` Deny matches every
 * pod the selectors see), so the engine is asked only when the rules hold a Pass.
 */
function existingPeerHoles(
  context: AuditContext,
  subject: Pod,
  direction: Direction,
  rules: readonly TierRule[],
) {
  const holes: string[] = [];
  const passes = rules.filter((r) => r.rule.action === 'Pass');
  if (passes.length === 0) return holes;
  // Only a peer some Pass may match can fall through: a cheap superset, the engine decides.
  const byAddress = passes.some((r) => r.rule.peers.some((p) => p.kind !== 'pods'));
  const namespaceSelectors = passes.flatMap((r) =>
    r.rule.peers.flatMap((p) => (p.kind === 'pods' ? [p.namespaceSelector] : [])),
  );
  const mayBePassed = (namespace: string, hasAddress: boolean) => {
    if (byAddress && hasAddress) return true;
    const labels = context.snapshot.namespaces.get(namespace)?.labels ?? {};
    return namespaceSelectors.some((selector) => selectorMatches(selector, labels));
  };
  for (const peerClass of context.engine.classes) {
    if (peerClass.hostNetwork || !mayBePassed(peerClass.namespace, peerClass.addresses.length > 0)) continue;
    const peer = peerClass.pods[0];
    if (!peer) continue;
    const side = context.engine.explainSide(subject, { pod: peer }, direction);
    const fallen = defaultAllowed(side);
    if (isEmptyPorts(fallen)) continue;
    const pass = side.tiers.find((s) => s.action === 'Pass' && s.rule);
    const via = pass?.rule ? `, handed on by ${tierRuleNote(pass.rule)}` : '';
    holes.push(
      `${direction === 'ingress' ? 'from' : 'to'} ${peer.workload} on ${formatPorts(fallen)}: allowed by default${via}`,
    );
    if (holes.length >= 3) break;
  }
  return holes;
}

export type DenyByDefault = { closedBy: TierRule[] } | { reasons: string[] };

/**
 * Whether the tier rules deny by default in one direction: every peer the tiers can name (every pod of
 * every namespace, present or future; for egress also every address) is decided by a Deny rule unless
 * a rule allowed or passed it before, and nothing passed on falls through to the default. Ingress rules
 * of these kinds cannot name addresses, so sources outside the cluster are not part of the question.
 * `subject`, when given, is an existing pod whose peers the engine is asked about.
 */
export function tierDenyByDefault(
  context: AuditContext,
  rules: readonly TierRule[],
  direction: Direction,
  subject?: Pod,
): DenyByDefault {
  const what =
    direction === 'ingress'
      ? 'traffic from a pod of a namespace created later'
      : 'traffic to a pod of a namespace created later';
  const walks = [futurePodWalk(rules, what)];
  if (direction === 'egress') walks.push(addressWalk(context, rules));
  const reasons = walks.flatMap((w) => ('reason' in w ? [w.reason] : []));
  if (reasons.length === 0 && subject) reasons.push(...existingPeerHoles(context, subject, direction, rules));
  if (reasons.length > 0) return { reasons };
  const closedBy = uniqueRules(walks.flatMap((w) => ('closedBy' in w ? w.closedBy : [])));
  return { closedBy };
}

// ---------------------------------------------------------------------------------------------------
// Isolation, tier-aware

export type Isolation =
  /** Outside policy: neither NetworkPolicies nor cluster policies select it. */
  | { kind: 'hostNetwork' }
  | { kind: 'networkPolicy'; policies: readonly NetworkPolicy[] }
  /** No NetworkPolicy isolates it, but Admin/Baseline Deny rules deny what is not allowed. */
  | { kind: 'tiers'; rules: TierRule[] }
  /** Policies of another kind (Calico, Cilium) isolate it: the first level that denies what it leaves. */
  | { kind: 'kindPolicies'; tier: string; policies: KindPolicy[] }
  /** Everything not denied is allowed; `rules` are the cluster rules that select it, if any. */
  | { kind: 'open'; rules: TierRule[]; reasons: string[] };

const isolationCache = new WeakMap<AuditContext, Map<string, Isolation>>();

/**
 * Whether a pod is isolated in a direction: a NetworkPolicy selects it for the direction, or the
 * Admin- and Baseline-tier rules that select it deny by default (see `tierDenyByDefault`). Pods of
 * one class share the answer.
 */
export function isolationOf(context: AuditContext, pod: Pod, direction: Direction): Isolation {
  let cache = isolationCache.get(context);
  if (!cache) {
    cache = new Map();
    isolationCache.set(context, cache);
  }
  const key = `${direction}:${context.engine.classOf(pod).id}`;
  let isolation = cache.get(key);
  if (!isolation) {
    isolation = computeIsolation(context, pod, direction);
    cache.set(key, isolation);
  }
  return isolation;
}

function computeIsolation(context: AuditContext, pod: Pod, direction: Direction): Isolation {
  const side = context.engine.explainSide(pod, PROBE, direction);
  if (side.hostNetwork) return { kind: 'hostNetwork' };
  if (side.isolatedBy.length > 0) return { kind: 'networkPolicy', policies: side.isolatedBy };
  const closing = context.engine.closingLevel(context.engine.classOf(pod), direction);
  if (closing) return { kind: 'kindPolicies', ...closing };
  // Policies of other kinds that select the pod and leave it open (Cilium's enableDefaultDeny: false).
  const selecting = (side.kindNotIsolating ?? []).map(
    (p) =>
      `${p.origin.policy} (${where(p.origin.provenance)}) selects it but does not isolate it${p.isolationNote ? `: ${p.isolationNote[direction]}` : ''}`,
  );
  const rules = clusterRulesOf(context, pod, direction);
  if (rules.length === 0) return { kind: 'open', rules, reasons: selecting };
  const verdict = tierDenyByDefault(context, rules, direction, pod);
  return 'closedBy' in verdict
    ? { kind: 'tiers', rules: verdict.closedBy }
    : { kind: 'open', rules, reasons: [...verdict.reasons, ...selecting] };
}

export function isIsolated(isolation: Isolation): boolean {
  return (
    isolation.kind === 'networkPolicy' || isolation.kind === 'tiers' || isolation.kind === 'kindPolicies'
  );
}

// ---------------------------------------------------------------------------------------------------
// Who may reach a pod from any namespace, present or future

/** A cluster rule peer that admits pods of a namespace created later. */
export interface BroadTierPeer {
  policy: ClusterPolicy;
  rule: ClusterRule;
  peer: number;
  allPods: boolean;
  denyList: boolean;
  ports: PortSet;
}

/**
 * Along the tier walk for "a pod of a namespace created later" as source: the Admin and Baseline Allow
 * rules that admit it, and whether it reaches the NetworkPolicy tier at all (an Admin Deny or Allow for
 * every pod decides it first). `isolated`: a NetworkPolicy isolates the subject, so Baseline is not reached.
 */
export function futureSourceWalk(
  context: AuditContext,
  subject: Pod,
  isolated: boolean,
): { broad: BroadTierPeer[]; reachesNetworkPolicy: boolean } {
  const rules = clusterRulesOf(context, subject, 'ingress');
  const destination = context.engine.classOf(subject);
  const broad: BroadTierPeer[] = [];
  const allows = (entry: TierRule) => {
    entry.rule.peers.forEach((peer, index) => {
      if (peer.kind !== 'pods' || !selectorMatches(peer.namespaceSelector, UNSEEN_NAMESPACE)) return;
      const ports = clusterPortsOf(entry.rule.ports, destination);
      if (isEmptyPorts(ports)) return;
      const denyList = !isEmptySelector(peer.namespaceSelector);
      broad.push({
        ...entry,
        peer: index,
        allPods: isEmptySelector(peer.podSelector) && !denyList,
        denyList,
        ports,
      });
    });
  };
  let reachesNetworkPolicy = true;
  for (const entry of rules) {
    if (entry.policy.tier !== 'Admin') continue;
    const match = futurePodMatch(entry.rule);
    if (match === 'none') continue;
    if (entry.rule.action === 'Allow') allows(entry);
    if (entry.rule.action === 'Pass') break;
    if (match === 'all' && allPorts(entry.rule)) {
      reachesNetworkPolicy = false;
      break;
    }
  }
  if (reachesNetworkPolicy && !isolated) {
    for (const entry of rules) {
      if (entry.policy.tier !== 'Baseline') continue;
      const match = futurePodMatch(entry.rule);
      if (match === 'none') continue;
      if (entry.rule.action === 'Allow') allows(entry);
      if (entry.rule.action === 'Pass' || (match === 'all' && allPorts(entry.rule))) break;
    }
  }
  return { broad, reachesNetworkPolicy };
}

/**
 * The tier equivalent of a namespace's default deny in one direction: policies whose subject is every
 * pod of the namespace (so pods created later too) deny by default, and the engine finds no hole for
 * the pods there now. Undefined when no cluster policy selects any pod of the namespace.
 */
export function namespaceDenyByDefault(
  context: AuditContext,
  namespace: string,
  direction: Direction,
): DenyByDefault | undefined {
  if (!hasClusterPolicies(context)) return undefined;
  const whole = policiesForWholeNamespace(context, namespace);
  const pods = context.snapshot.workloads
    .filter((w) => w.namespace === namespace)
    .flatMap((w) => w.pods)
    .filter((pod, i, all) => {
      const podClass = context.engine.classOf(pod);
      return !podClass.hostNetwork && all.findIndex((p) => context.engine.classOf(p) === podClass) === i;
    });
  if (whole.length === 0 && !pods.some((pod) => selectingPolicies(context, pod).length > 0)) return undefined;
  const rules = whole.flatMap((policy) => policy[direction].map((rule) => ({ policy, rule })));
  if (rules.length === 0)
    return {
      reasons: [
        `no Admin/Baseline-tier policy whose subject is every pod of ${namespace} has ${direction} rules`,
      ],
    };
  const verdict = tierDenyByDefault(context, rules, direction);
  if ('reasons' in verdict) return verdict;
  const reasons: string[] = [];
  for (const pod of pods) {
    const isolation = isolationOf(context, pod, direction);
    if (isolation.kind === 'open')
      reasons.push(
        `${pod.workload} is not ${direction}-isolated: ${isolation.reasons[0] ?? 'nothing denies by default'}`,
      );
  }
  return reasons.length > 0 ? { reasons: reasons.slice(0, 5) } : verdict;
}

/**
 * The Admin tier alone, for a pod of a namespace created later as source (HIPAA-NP-033): a guardrail
 * when a Deny for every pod of every namespace on every port comes before any rule that may allow it or
 * pass it on to NetworkPolicy.
 */
export function adminGuardWalk(rules: readonly TierRule[]): Walk {
  const what = 'pods of a namespace created later';
  for (const entry of rules) {
    if (entry.policy.tier !== 'Admin') continue;
    const match = futurePodMatch(entry.rule);
    if (match === 'none') continue;
    if (entry.rule.action === 'Pass')
      return {
        reason: `${tierRuleNote(entry)} may pass ${what} to NetworkPolicy, which namespace owners write`,
      };
    if (entry.rule.action === 'Allow') return { reason: `${tierRuleNote(entry)} may allow ${what}` };
    if (match === 'all' && allPorts(entry.rule)) return { closedBy: [entry] };
  }
  return {
    reason: `no Admin-tier Deny for every pod of every namespace (a namespaces: {} peer, all ports): ${what} reach NetworkPolicy`,
  };
}
