import {
  ALL_PORTS,
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  type ClusterPolicy,
  type ClusterRule,
  clusterPolicyId,
  clusterRuleId,
  type Pod,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, FindingDraft } from '../types.ts';
import { calicoGuardrail } from './calico-support.ts';
import { ciliumGuardrail } from './cilium-support.ts';
import { isPhi, locationOf, NAME_LABEL, onePodPerClass, phiWorkloads } from './support.ts';
import {
  adminGuardWalk,
  clusterRulesOf,
  selectingPolicies,
  type TierRule,
  tierRuleEvidence,
  tierRuleNote,
} from './tier-support.ts';

/** Gaps listed per namespace; the count of the others is given. */
const MAX_GAPS = 10;
/** Sources named per PHI pod class before moving on: one is enough to show the guardrail is incomplete. */
const MAX_SOURCES = 3;

/** One pod per class of the non-PHI workloads that are not exempt: the sources a guardrail must deny. */
function nonPhiSources(context: AuditContext): Pod[] {
  const exempt = new Set(context.config.allowedIngressNamespaces);
  const seen = new Set<unknown>();
  const sources: Pod[] = [];
  for (const workload of context.snapshot.workloads) {
    if (isPhi(context, workload.id) || exempt.has(workload.namespace)) continue;
    for (const pod of onePodPerClass(context, workload)) {
      const podClass = context.engine.classOf(pod);
      // Their traffic is the node's: Admin-tier ingress rules have no peer that names it.
      if (podClass.hostNetwork || seen.has(podClass)) continue;
      seen.add(podClass);
      sources.push(pod);
    }
  }
  return sources;
}

interface Coverage {
  gaps: string[];
  /** Admin-tier rules that denied non-PHI sources (by the engine) or pods of future namespaces. */
  denying: Map<string, TierRule>;
  /** Admin-tier policies that select some PHI pod of the namespace. */
  selecting: Set<ClusterPolicy>;
  /** PHI workloads with a pod no Admin-tier policy with ingress rules selects. */
  unselected: string[];
}

/**
 * Whether the Admin tier alone denies ingress to one PHI pod from every non-PHI source: existing ones by
 * the engine's tier walk (every port decided by an Admin-tier Deny), pods of namespaces created later by
 * the order of the Admin-tier rules (tier-support.ts `adminGuardWalk`).
 */
function cover(
  context: AuditContext,
  workload: Workload,
  pod: Pod,
  sources: () => readonly Pod[],
  into: Coverage,
) {
  if (context.engine.classOf(pod).hostNetwork) {
    into.gaps.push(`${workload.id}: a hostNetwork pod, which no policy selects (HIPAA-NP-023)`);
    return;
  }
  for (const policy of selectingPolicies(context, pod))
    if (policy.tier === 'Admin') into.selecting.add(policy);
  const rules = clusterRulesOf(context, pod, 'ingress').filter((r) => r.policy.tier === 'Admin');
  if (rules.length === 0) {
    into.unselected.push(workload.id);
    return;
  }
  const future = adminGuardWalk(rules);
  if ('reason' in future) into.gaps.push(`${workload.id}: ${future.reason}`);
  else for (const rule of future.closedBy) into.denying.set(clusterRuleId(rule.policy, rule.rule), rule);
  // Sources that the same Admin rules match get the same Admin-tier answer: one engine question each.
  let named = 0;
  for (const group of sourceGroups(context, rules, sources)) {
    const verdict = adminVerdict(context, pod, rules, group);
    for (const rule of verdict.denying) into.denying.set(clusterRuleId(rule.policy, rule.rule), rule);
    if (isEmptyPorts(verdict.open)) continue;
    for (const source of group.sources) {
      if (named++ >= MAX_SOURCES) continue;
      into.gaps.push(
        `${workload.id}: from ${source.workload} on ${formatPorts(verdict.open)}: ${verdict.how}`,
      );
    }
  }
  if (named > MAX_SOURCES)
    into.gaps.push(
      `${workload.id}: ${named - MAX_SOURCES} more non-PHI source(s) not denied by the Admin tier`,
    );
}

interface SourceGroup {
  /** Which of the chain's rules match these sources, as 0/1 per rule. */
  signature: string;
  sources: Pod[];
}

const groupCache = new WeakMap<AuditContext, Map<string, SourceGroup[]>>();

/** Whether a cluster rule's peers match a pod: the engine's reading of `namespaces` and `pods` peers. */
function ruleMatches(context: AuditContext, rule: ClusterRule, pod: Pod): boolean {
  const labels = context.snapshot.namespaces.get(pod.namespace)?.labels;
  if (!labels) return false;
  return rule.peers.some(
    (peer) =>
      peer.kind === 'pods' &&
      selectorMatches(peer.namespaceSelector, labels) &&
      (!peer.podSelector || selectorMatches(peer.podSelector, pod.labels)),
  );
}

function chainKey(rules: readonly TierRule[]): string {
  return rules.map((r) => clusterRuleId(r.policy, r.rule)).join('\n');
}

function sourceGroups(context: AuditContext, rules: readonly TierRule[], sources: () => readonly Pod[]) {
  let cache = groupCache.get(context);
  if (!cache) {
    cache = new Map();
    groupCache.set(context, cache);
  }
  const key = chainKey(rules);
  let groups = cache.get(key);
  if (!groups) {
    const bySignature = new Map<string, Pod[]>();
    for (const source of sources()) {
      const signature = rules.map((r) => (ruleMatches(context, r.rule, source) ? '1' : '0')).join('');
      const list = bySignature.get(signature);
      if (list) list.push(source);
      else bySignature.set(signature, [source]);
    }
    groups = [...bySignature].map(([signature, list]) => ({ signature, sources: list }));
    cache.set(key, groups);
  }
  return groups;
}

interface AdminVerdict {
  /** Ports the Admin tier does not deny. */
  open: PortSet;
  how: string;
  denying: TierRule[];
}

const verdictCache = new WeakMap<AuditContext, Map<string, AdminVerdict>>();

/** The engine's Admin-tier answer for one group of sources (per chain and named ports of the subject). */
function adminVerdict(context: AuditContext, subject: Pod, rules: readonly TierRule[], group: SourceGroup) {
  let cache = verdictCache.get(context);
  if (!cache) {
    cache = new Map();
    verdictCache.set(context, cache);
  }
  const key = `${chainKey(rules)}\0${context.engine.classOf(subject).namedPortsId}\0${group.signature}`;
  let verdict = cache.get(key);
  if (!verdict) {
    const side = context.engine.explainSide(subject, { pod: group.sources[0] as Pod }, 'ingress');
    let denied = NO_PORTS;
    const denying: TierRule[] = [];
    for (const step of side.tiers) {
      if (step.tier !== 'Admin' || step.action !== 'Deny' || !step.rule) continue;
      denied = unionPorts(denied, step.ports);
      denying.push({ policy: step.rule.policy, rule: step.rule.rule });
    }
    const open = subtractPorts(ALL_PORTS, denied);
    verdict = { open, how: isEmptyPorts(open) ? '' : howDecided(side.tiers, open), denying };
    cache.set(key, verdict);
  }
  return verdict;
}

type Steps = ReturnType<AuditContext['engine']['explainSide']>['tiers'];

/** What decided the ports the Admin tier did not deny: an Admin Allow, an Admin Pass, or no Admin rule. */
function howDecided(steps: Steps, open: typeof ALL_PORTS): string {
  const parts: string[] = [];
  for (const step of steps) {
    if (step.tier !== 'Admin' || !step.rule || step.action === 'Deny') continue;
    if (isEmptyPorts(intersectPorts(step.ports, open))) continue;
    const rule = tierRuleNote(step.rule);
    parts.push(
      step.action === 'Allow'
        ? `allowed by ${rule}, not denied`
        : `passed to NetworkPolicy by ${rule}, where namespace owners decide`,
    );
  }
  return parts.length > 0
    ? parts.join('; ')
    : 'no Admin-tier rule matches it, so NetworkPolicy (namespace owners) decides';
}

function guardrailYaml(context: AuditContext, namespace: string): string {
  const trusted = [
    ...new Set([
      ...phiWorkloads(context).map((w) => w.namespace),
      ...context.config.allowedIngressNamespaces,
    ]),
  ].sort();
  return `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: phi-guardrail-${namespace}
spec:
  # Pick a priority no other AdminNetworkPolicy uses (lower runs first).
  priority: 10
  subject:
    namespaces:
      matchLabels:
        ${NAME_LABEL}: ${namespace}
  ingress:
    # PHI namespaces and allowedIngressNamespaces: their NetworkPolicies decide, as before.
    - name: phi-and-approved-sources
      action: Pass
      from:
        - namespaces:
            matchExpressions:
              - key: ${NAME_LABEL}
                operator: In
                values: [${trusted.join(', ')}]
    # Everyone else, namespaces created later included: no NetworkPolicy can let them in.
    - name: deny-everyone-else
      action: Deny
      from:
        - namespaces: {}
`;
}

/**
 * HIPAA-NP-033: an Admin-tier guardrail is the one segmentation control namespace owners cannot undo: a
 * NetworkPolicy written later in a PHI namespace cannot let a non-PHI source in. Informational: it
 * passes, naming the guardrail, when the Admin tier alone denies ingress from every non-PHI source
 * (allowedIngressNamespaces exempt) to every PHI workload of the namespace; otherwise a person reviews
 * whether the NetworkPolicies alone are an acceptable control.
 */
const check033: Check = {
  id: 'HIPAA-NP-033',
  run(context) {
    const byNamespace = new Map<string, Workload[]>();
    for (const workload of phiWorkloads(context)) {
      const list = byNamespace.get(workload.namespace);
      if (list) list.push(workload);
      else byNamespace.set(workload.namespace, [workload]);
    }
    let sources: Pod[] | undefined;
    const sourcesOnce = () => {
      sources ??= nonPhiSources(context);
      return sources;
    };
    const exempt = context.config.allowedIngressNamespaces;
    const findings: FindingDraft[] = [];
    for (const [namespace, workloads] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const phiPods = workloads.flatMap((workload) =>
        onePodPerClass(context, workload).map((pod) => ({ workload, pod })),
      );
      const byKind =
        calicoGuardrail(context, namespace, phiPods, sourcesOnce()) ??
        ciliumGuardrail(context, namespace, phiPods, sourcesOnce());
      if (byKind) {
        findings.push(byKind);
        continue;
      }
      const coverage: Coverage = { gaps: [], denying: new Map(), selecting: new Set(), unselected: [] };
      for (const workload of workloads)
        for (const pod of onePodPerClass(context, workload))
          cover(context, workload, pod, sourcesOnce, coverage);
      const ids = workloads.map((w) => w.id).join(', ');
      const outside =
        'Admin-tier ingress rules cannot name sources outside the cluster: NetworkPolicies govern those (HIPAA-NP-009)';
      const exemptNote =
        exempt.length > 0
          ? [`sources in allowedIngressNamespaces (${exempt.join(', ')}) are not held to the guardrail`]
          : [];
      if (coverage.gaps.length === 0 && coverage.unselected.length === 0) {
        const rules = [...coverage.denying.values()];
        findings.push({
          status: 'pass',
          objects: [namespace],
          evidence: {
            rules: rules.map((rule) => tierRuleEvidence(rule)),
            notes: [
              `the Admin tier denies ingress to every PHI workload of ${namespace} (${ids}) from every non-PHI source, pods of namespaces created later included; no NetworkPolicy can override it: ${[
                ...new Set(rules.map((r) => clusterPolicyId(r.policy))),
              ].join(', ')}`,
              ...exemptNote,
              outside,
            ],
          },
          location: rules[0] ? locationOf(rules[0].rule.provenance) : undefined,
        });
        continue;
      }
      const selecting = [...coverage.selecting];
      const rules = selecting.flatMap((policy) =>
        policy.ingress.map((rule) => tierRuleEvidence({ policy, rule })),
      );
      const notes = [
        selecting.length === 0
          ? `no Admin-tier policy (an AdminNetworkPolicy, or a ClusterNetworkPolicy with tier Admin) selects the PHI workloads of ${namespace} (${ids}): only NetworkPolicies, which its namespace owners may change, keep non-PHI sources out`
          : `the Admin tier selects PHI workloads of ${namespace} (${selecting.map((p) => `${clusterPolicyId(p)} at ${where(p.provenance)}`).join(', ')}) but does not deny ingress from every non-PHI source to all of them`,
        ...selecting
          .filter((p) => p.ingress.length === 0)
          .map((p) => `${clusterPolicyId(p)} has no ingress rules`),
        ...(selecting.length > 0
          ? [...new Set(coverage.unselected)].map(
              (id) => `${id}: no Admin-tier policy with ingress rules selects it`,
            )
          : []),
        ...coverage.gaps.slice(0, MAX_GAPS),
        ...(coverage.gaps.length > MAX_GAPS
          ? [`${coverage.gaps.length - MAX_GAPS} more gap(s) not listed`]
          : []),
        ...exemptNote,
      ];
      const anchor = selecting[0]?.provenance ?? (workloads[0] as Workload).provenance;
      findings.push({
        status: 'needs-review',
        objects: [namespace],
        evidence: rules.length > 0 ? { rules, notes } : { notes },
        remediation: {
          text: `Decide whether the NetworkPolicies of ${namespace} are control enough. A guardrail namespace owners cannot undo is an AdminNetworkPolicy like the one below: it passes PHI namespaces and allowedIngressNamespaces to their NetworkPolicies and denies everyone else; review the list, and where a finding here names an Admin-tier Allow or Pass for a non-PHI source, narrow that rule or add its namespace to allowedIngressNamespaces.`,
          yaml: guardrailYaml(context, namespace),
        },
        location: locationOf(anchor),
      });
    }
    return findings;
  },
};

export const guardrailChecks: readonly Check[] = [check033];
