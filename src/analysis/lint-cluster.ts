import { formatAddress } from '../engine/addresses.ts';
import type { CompiledClusterRule } from '../engine/compile.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import type { PeerMatcher } from '../engine/peer-matcher.ts';
import {
  type ClusterPeer,
  type ClusterPolicy,
  type ClusterRule,
  clusterPolicyId,
  clusterRuleId,
  type Snapshot,
} from '../model/types.ts';
import { where } from '../report/explain.ts';
import { type LintFinding, PEER_FIELD, type PodIndex, selectorText } from './policy-hygiene.ts';

interface Context {
  snapshot: Snapshot;
  engine: Engine;
  matcher: PeerMatcher;
  pods: PodIndex;
}

function rulePath(policy: ClusterPolicy, rule: ClusterRule, peer?: number): string {
  const base = `${clusterPolicyId(policy)}#spec.${rule.direction}[${rule.index}]`;
  return peer === undefined ? base : `${base}.${PEER_FIELD[rule.direction]}[${peer}]`;
}

/** The lint rules about cluster policies: PW-LINT-009 to PW-LINT-012. */
export function lintClusterPolicies(context: Context): LintFinding[] {
  return [
    ...subjectsSelectingNothing(context),
    ...peersSelectingNothing(context),
    ...rulesThatNeverDecide(context),
    ...samePriorityOverlaps(context),
  ];
}

// PW-LINT-009
function* subjectsSelectingNothing({ snapshot, matcher, pods }: Context): Generator<LintFinding> {
  for (const policy of snapshot.clusterPolicies) {
    if (matcher.clusterSubject(policy).size > 0) continue;
    const { namespaceSelector, podSelector } = policy.subject;
    const namespaces = pods.namespacesMatching(namespaceSelector);
    const why =
      namespaces.length === 0
        ? `its namespace selector ${selectorText(namespaceSelector)} matches no namespace`
        : `no pod in ${namespaces.join(', ')} matches ${selectorText(podSelector ?? { matchLabels: {}, matchExpressions: [] })}${podSelector ? '' : ' (there are none, or only hostNetwork pods, which cluster policies never select)'}`;
    yield {
      rule: 'PW-LINT-009',
      at: policy.provenance,
      policy: clusterPolicyId(policy),
      path: `${clusterPolicyId(policy)}#spec.subject`,
      message: `${clusterPolicyId(policy)} selects no workload: ${why}`,
      fix: `Correct spec.subject to the labels of the namespaces and pods ${clusterPolicyId(policy)} is meant to govern, or delete it.`,
    };
  }
}

// PW-LINT-010
function* peersSelectingNothing({ snapshot, matcher, pods }: Context): Generator<LintFinding> {
  for (const policy of snapshot.clusterPolicies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const [index, peer] of rule.peers.entries()) {
        const why = emptyPeerReason(snapshot, matcher, pods, peer);
        if (!why) continue;
        const path = rulePath(policy, rule, index);
        yield {
          rule: 'PW-LINT-010',
          at: rule.provenance,
          policy: clusterPolicyId(policy),
          path,
          message: `${path} selects nothing: ${why}`,
          fix: 'Correct the selector so the peer matches what the rule was written for, or remove the peer.',
        };
      }
    }
  }
}

function emptyPeerReason(
  snapshot: Snapshot,
  matcher: PeerMatcher,
  pods: PodIndex,
  peer: ClusterPeer,
): string | undefined {
  if (peer.kind === 'networks') return undefined;
  if (peer.kind === 'nodes') {
    if (matcher.clusterPeers([peer]).addresses.length > 0) return undefined;
    return snapshot.nodes.length === 0
      ? `nodes ${selectorText(peer.nodeSelector)}: the input holds no Node objects, so phiwall cannot tell which addresses it covers (add \`kubectl get nodes -o yaml\` to the input)`
      : `nodes ${selectorText(peer.nodeSelector)} matches no Node of the input (or none with an InternalIP or ExternalIP)`;
  }
  if (matcher.clusterPeers([peer]).classes.size > 0) return undefined;
  const namespaces = pods.namespacesMatching(peer.namespaceSelector);
  if (namespaces.length === 0)
    return `namespace selector ${selectorText(peer.namespaceSelector)} matches no namespace`;
  return `no pod in ${namespaces.join(', ')} matches ${selectorText(peer.podSelector ?? { matchLabels: {}, matchExpressions: [] })}`;
}

// PW-LINT-011
function* rulesThatNeverDecide({ engine }: Context): Generator<LintFinding> {
  const all = [...engine.clusterRules()];
  // Every address boundary of every cluster rule: between two of them, each rule matches all or nothing.
  const boundaries = [
    ...new Set(all.flatMap(({ compiled }) => compiled.addresses.flatMap(([lo, hi]) => [lo, hi + 1n]))),
  ];
  for (const { compiled, subjects } of all) {
    if (subjects.size === 0 || (compiled.classes.size === 0 && compiled.addresses.length === 0)) continue;
    const takenBy = new Set<CompiledClusterRule>();
    if (decidesSomething(engine, compiled, subjects, boundaries, takenBy)) continue;
    const { policy, rule } = compiled;
    const position = all.findIndex((entry) => entry.compiled === compiled);
    const earlier = all
      .slice(0, position)
      .filter((entry) => takenBy.has(entry.compiled))
      .map(
        ({ compiled: other }) =>
          `${clusterRuleId(other.policy, other.rule)} (${where(other.rule.provenance)})`,
      );
    const named = (rule.ports ?? []).filter((p) => p.kind === 'named').map((p) => p.name);
    const before =
      earlier.length > 0
        ? `rules evaluated before it decide all the traffic it matches: ${earlier.join(', ')}`
        : named.length > 0 && named.length === rule.ports?.length
          ? `no destination pod defines the named port(s) ${named.join(', ')}`
          : 'the traffic it matches never reaches it (NetworkPolicies isolate its subjects, and they decide before the Baseline tier)';
    yield {
      rule: 'PW-LINT-011',
      at: rule.provenance,
      policy: clusterPolicyId(policy),
      path: rulePath(policy, rule),
      message: `${clusterRuleId(policy, rule)} never decides a connection: ${before}`,
      fix: 'Delete the rule, or move it (or its policy, by priority) ahead of the rules that shadow it if it states the intent.',
    };
  }
}

function decidesSomething(
  engine: Engine,
  compiled: CompiledClusterRule,
  subjects: ReadonlySet<number>,
  boundaries: readonly bigint[],
  takenBy: Set<CompiledClusterRule>,
): boolean {
  const direction = compiled.rule.direction;
  const addresses = boundaries.filter((b) => compiled.addresses.some(([lo, hi]) => b >= lo && b <= hi));
  for (const subjectId of subjects) {
    const subject = (engine.classes[subjectId] as PodClass).pods[0];
    if (!subject) continue;
    const peers = [
      ...[...compiled.classes].flatMap((id) =>
        (engine.classes[id] as PodClass).pods.slice(0, 1).map((pod) => ({ pod })),
      ),
      ...addresses.map((address) => ({ ip: formatAddress(address) })),
    ];
    // A subject class among the peers stands for traffic between its replicas, which the rule governs.
    for (const peer of peers) {
      for (const step of engine.explainSide(subject, peer, direction).tiers) {
        if (!step.rule) continue;
        if (step.rule === compiled) return true;
        takenBy.add(step.rule);
      }
    }
  }
  return false;
}

// PW-LINT-012
function* samePriorityOverlaps({ snapshot, matcher }: Context): Generator<LintFinding> {
  const seen: ClusterPolicy[] = [];
  for (const policy of snapshot.clusterPolicies) {
    if (policy.priority === undefined) continue;
    const subjects = matcher.clusterSubject(policy);
    for (const other of seen) {
      if (other.tier !== policy.tier || other.priority !== policy.priority) continue;
      const shared = [...matcher.clusterSubject(other)].filter((id) => subjects.has(id)).length;
      const directions = (['ingress', 'egress'] as const).filter(
        (d) => policy[d].length > 0 && other[d].length > 0,
      );
      if (shared === 0 || directions.length === 0) continue;
      yield {
        rule: 'PW-LINT-012',
        at: policy.provenance,
        policy: clusterPolicyId(policy),
        path: `${clusterPolicyId(policy)}#spec.priority`,
        message: `${clusterPolicyId(policy)} and ${clusterPolicyId(other)} (${where(other.provenance)}) are both ${policy.tier}-tier policies of priority ${policy.priority} with ${directions.join(' and ')} rules for the same pods: the API leaves their order undefined (phiwall evaluates them in input order)`,
        fix: `Give ${clusterPolicyId(policy)} a priority no other ${policy.tier}-tier policy uses.`,
      };
    }
    seen.push(policy);
  }
}
