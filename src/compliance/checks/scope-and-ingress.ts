import type { Connection, ConnectionPeer } from '../../analysis/connectivity.ts';
import { ALL_ADDRESSES } from '../../engine/addresses.ts';
import { portsOf } from '../../engine/compile.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { type IntervalSet, intersect, subtract, union } from '../../engine/intervals.ts';
import {
  ALL_PORTS,
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  type ClusterPolicy,
  type ClusterRule,
  clusterPolicyId,
  clusterRuleId,
  type Direction,
  type LabelSelector,
  type Labels,
  type NetworkPolicy,
  type Pod,
  type PolicyRule,
  PROTOCOLS,
  type Provenance,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditConfig } from '../config.ts';
import { matchingLabel } from '../phi-scope.ts';
import type { AuditContext, Check, Evidence, FindingDraft } from '../types.ts';
import {
  addressSet,
  defaultDenyYaml,
  edgeText,
  isPhi,
  locationOf,
  NAME_LABEL,
  NON_PUBLIC_ADDRESSES,
  onePodPerClass,
  phiWorkloads,
  policyYaml,
  ruleEvidence,
} from './support.ts';
import {
  allowingRules,
  futureSourceWalk,
  isIsolated,
  isolationOf,
  namespaceDenyByDefault,
  type TierRule,
  tierRuleEvidence,
  tierRuleNote,
  uniqueRules,
} from './tier-support.ts';

/** Evidence lists stay readable on large clusters; the count of what was left out is always given. */
const MAX_EDGES = 25;
/** Policies in one remediation: past this, more of the same shape help no one apply them. */
const MAX_REMEDIATIONS = 10;

function edgesOf(connections: readonly Connection[]): Pick<Evidence, 'edges' | 'notes'> {
  const edges = connections.slice(0, MAX_EDGES).map(edgeText);
  const more = connections.length - edges.length;
  return more > 0 ? { edges, notes: [`${more} more edge(s) not listed`] } : { edges };
}

const connectionIndex = new WeakMap<readonly Connection[], Map<string, Connection[]>>();

/**
 * `connectionsOf`, indexed once per audit: several checks here ask it for every workload of a
 * namespace, and a linear scan per question grows with the square of the cluster.
 */
function connectionsOfIndexed(context: AuditContext, workloadId: string, direction: Direction): Connection[] {
  let index = connectionIndex.get(context.connections);
  if (!index) {
    index = new Map();
    for (const connection of context.connections) {
      for (const [side, key] of [
        [connection.dst, 'ingress'],
        [connection.src, 'egress'],
      ] as const) {
        if (!('workload' in side)) continue;
        const id = `${key}\0${side.workload}`;
        const list = index.get(id);
        if (list) list.push(connection);
        else index.set(id, [connection]);
      }
    }
    connectionIndex.set(context.connections, index);
  }
  return index.get(`${direction}\0${workloadId}`) ?? [];
}

type RuleRef = { rule: string; at: string };

const ruleCache = new WeakMap<AuditContext, Map<string, RuleRef[]>>();

/**
 * `ruleEvidence`, remembered per pod-class pair: the answer depends only on the classes, and large
 * clusters ask it for tens of thousands of edges between a few hundred classes.
 */
function rulesOf(context: AuditContext, subject: Workload, peer: Endpoint, direction: Direction): RuleRef[] {
  const pod = subject.pods[0];
  if (!pod) return [];
  let cache = ruleCache.get(context);
  if (!cache) {
    cache = new Map();
    ruleCache.set(context, cache);
  }
  const peerKey = 'pod' in peer ? `c${context.engine.classOf(peer.pod).id}` : `i${peer.ip}`;
  const key = `${direction}:${context.engine.classOf(pod).id}:${peerKey}`;
  let rules = cache.get(key);
  if (!rules) {
    rules = ruleEvidence(context, subject, peer, direction) ?? [];
    cache.set(key, rules);
  }
  // A copy, so that no two findings share an array a reporter might sort or extend.
  return [...rules];
}

function mergeEvidence(...parts: Evidence[]): Evidence {
  const evidence: Evidence = {};
  const rules: RuleRef[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    if (part.edges?.length) evidence.edges = [...(evidence.edges ?? []), ...part.edges];
    for (const rule of part.rules ?? []) {
      if (seen.has(rule.rule)) continue;
      seen.add(rule.rule);
      rules.push(rule);
    }
    if (part.notes?.length) evidence.notes = [...(evidence.notes ?? []), ...part.notes];
  }
  if (rules.length > 0) evidence.rules = rules;
  return evidence;
}

function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

/** The config's PHI label, as people should write it (`data-classification: phi`). */
function phiLabelHint(config: AuditConfig): string {
  const selector = config.phi.selectors[0];
  return selector ? `${selector.key}: ${selector.values[0]}` : 'data-classification: phi';
}

function labelsMatch(labels: Labels, config: AuditConfig): boolean {
  return matchingLabel(labels, config.phi.selectors) !== undefined;
}

/** Namespaces labelled PHI, and namespaces holding a PHI workload. */
function phiNamespaces(context: AuditContext): string[] {
  const names = new Set(phiWorkloads(context).map((w) => w.namespace));
  for (const namespace of context.snapshot.namespaces.values()) {
    if (labelsMatch(namespace.labels, context.config)) names.add(namespace.name);
  }
  return [...names].sort();
}

const policiesByNamespace = new WeakMap<AuditContext, Map<string, NetworkPolicy[]>>();

function policiesIn(context: AuditContext, namespace: string): NetworkPolicy[] {
  let index = policiesByNamespace.get(context);
  if (!index) {
    index = new Map();
    for (const policy of context.engine.currentPolicies) {
      const list = index.get(policy.namespace);
      if (list) list.push(policy);
      else index.set(policy.namespace, [policy]);
    }
    policiesByNamespace.set(context, index);
  }
  return index.get(namespace) ?? [];
}

// Labels a controller sets per pod or per revision: a remediation selecting on them breaks on rollout.
const VOLATILE_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
]);

function stableLabels(workload: Workload): [string, string][] {
  const [first, ...rest] = workload.pods;
  if (!first) return [];
  return Object.entries(first.labels)
    .filter(([key, value]) => !VOLATILE_LABELS.has(key) && rest.every((p) => p.labels[key] === value))
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

function scalar(text: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9._/-]*$/.test(text) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}

function matchLabelsYaml(labels: readonly [string, string][], indent: string): string {
  if (labels.length === 0) return ' {}';
  return `\n${indent}  matchLabels:\n${labels.map(([k, v]) => `${indent}    ${scalar(k)}: ${scalar(v)}`).join('\n')}`;
}

function uniquePolicyName(context: AuditContext, namespace: string, base: string): string {
  const taken = new Set(policiesIn(context, namespace).map((p) => p.name));
  const stem = base.slice(0, 240);
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

function selectorNote(workload: Workload): string {
  return stableLabels(workload).length === 0
    ? `${workload.id} has no stable pod labels, so the policy below selects every pod of namespace ${workload.namespace}; label the workload and narrow the selector.`
    : `The policy below selects the pod labels of ${workload.id}; check that they select no other workload.`;
}

function denyIngressYaml(context: AuditContext, workload: Workload): string {
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-ingress`),
    `podSelector:${matchLabelsYaml(stableLabels(workload), '')}
policyTypes: [Ingress]
# Isolates the workload; add an ingress rule per flow it needs (HIPAA-NP-012 lists them).
ingress: []`,
  );
}

function dnsOnlyEgressYaml(context: AuditContext, workload: Workload): string {
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-egress`),
    `podSelector:${matchLabelsYaml(stableLabels(workload), '')}
policyTypes: [Egress]
# Only cluster DNS; add an egress rule per destination the workload needs (allowedEgress).
egress:
  - to:
      - namespaceSelector:
          matchLabels:
            ${NAME_LABEL}: kube-system
        podSelector:
          matchLabels:
            k8s-app: kube-dns
    ports:
      - {protocol: UDP, port: 53}
      - {protocol: TCP, port: 53}`,
  );
}

/**
 * Ingress to the workload only from its own namespace and the `allowedIngressNamespaces`, each named by
 * the label the API server sets, which no one can put on another namespace.
 */
function restrictedIngressYaml(context: AuditContext, workload: Workload): string {
  const allowed = context.config.allowedIngressNamespaces.filter((ns) => ns !== workload.namespace);
  const peers = [
    '      - podSelector: {}',
    ...allowed.map(
      (ns) => `      - namespaceSelector:\n          matchLabels:\n            ${NAME_LABEL}: ${scalar(ns)}`,
    ),
  ];
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-ingress-allowed-namespaces`),
    `podSelector:${matchLabelsYaml(stableLabels(workload), '')}
policyTypes: [Ingress]
ingress:
  # Add the service ports under "ports:" so that only they are open (HIPAA-NP-014).
  - from:
${peers.join('\n')}`,
  );
}

const ADDITIVE_NOTE =
  'NetworkPolicies are additive: the rules cited in the evidence keep allowing the traffic until they are removed or narrowed';

// ---------------------------------------------------------------------------------------------------

const check001: Check = {
  id: 'HIPAA-NP-001',
  run(context) {
    const findings: FindingDraft[] = [];
    const hint = phiLabelHint(context.config);
    if (context.phi.phi.size === 0) {
      const selectors = context.config.phi.selectors
        .map((s) => `${s.key} in (${s.values.join(', ')})`)
        .join('; ');
      findings.push({
        status: 'fail',
        objects: [],
        evidence: {
          notes: [
            `no Namespace or pod (template) carries a PHI label (${selectors}, any key prefix) among ${context.snapshot.workloads.length} workload(s)`,
            'without PHI workloads the other checks have nothing to hold to the safeguards: the audit is not assessable',
            `label each Namespace that holds PHI with "${hint}" (or the pod templates of the workloads that do)`,
          ],
        },
        remediation: {
          text: `Label the Namespaces (or pod templates) that store or process ePHI with "${hint}", then audit again.`,
        },
      });
    }
    for (const id of context.phi.annotationOnly) {
      const workload = context.workloadById.get(id);
      findings.push({
        status: 'needs-review',
        objects: [id],
        evidence: {
          notes: [
            `${id} carries a PHI marker only as an annotation; NetworkPolicies select by labels, so it is not treated as PHI`,
          ],
        },
        remediation: {
          text: `If ${id} holds PHI, set "${hint}" as a pod template label (or on its Namespace); otherwise remove the annotation.`,
        },
        location: workload ? locationOf(workload.provenance) : undefined,
      });
    }
    return findings;
  },
};

const check004: Check = {
  id: 'HIPAA-NP-004',
  run(context) {
    const byNamespace = new Map<string, Workload[]>();
    for (const workload of context.snapshot.workloads) {
      const list = byNamespace.get(workload.namespace);
      if (list) list.push(workload);
      else byNamespace.set(workload.namespace, [workload]);
    }
    const findings: FindingDraft[] = [];
    for (const [namespace, workloads] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const phi = workloads.filter((w) => isPhi(context, w.id));
      const other = workloads.filter((w) => !isPhi(context, w.id));
      if (phi.length === 0 || other.length === 0) continue;
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: {
          notes: [
            `PHI: ${phi.map((w) => `${w.id} (${context.phi.phi.get(w.id)})`).join(', ')}`,
            `not PHI: ${other.map((w) => w.id).join(', ')}`,
          ],
        },
        remediation: {
          text: `Move the non-PHI workloads out of ${namespace} into their own namespace, so that namespace-wide policies and access controls for PHI do not cover them; if they do handle PHI, label them "${phiLabelHint(context.config)}" (or label the namespace).`,
        },
        location: locationOf((other[0] as Workload).provenance),
      });
    }
    return findings;
  },
};

/**
 * 005 and 006: a pod is isolated when a NetworkPolicy selects it for the direction (the engine's
 * answer), or when the Admin- and Baseline-tier rules that select it deny by default (every pod of every
 * namespace, and for egress every address, reaches a Deny unless allowed first: see tier-support.ts).
 * Workloads isolated by the tiers alone pass with the rules named, so the auditor sees why.
 */
function isolationCheck(id: string, direction: Direction): Check {
  const Type = direction === 'ingress' ? 'Ingress' : 'Egress';
  return {
    id,
    run(context) {
      const findings: FindingDraft[] = [];
      const byTiersOnly: { workload: Workload; rules: TierRule[] }[] = [];
      for (const workload of phiWorkloads(context)) {
        // Pods of one class share the answer; a workload can have thousands of pods.
        const isolationOfPod = (pod: Pod) => isolationOf(context, pod, direction);
        const open = workload.pods.filter((pod) => !isIsolated(isolationOfPod(pod)));
        if (open.length === 0) {
          const byTiers = onePodPerClass(context, workload)
            .map(isolationOfPod)
            .flatMap((i) => (i.kind === 'tiers' ? i.rules : []));
          if (byTiers.length > 0) byTiersOnly.push({ workload, rules: byTiers });
          continue;
        }
        const hostNetwork = open.filter((pod) => isolationOfPod(pod).kind === 'hostNetwork');
        const tierRules = uniqueRules(
          onePodPerClass(context, workload).flatMap((pod) => {
            const isolation = isolationOfPod(pod);
            return isolation.kind === 'open' ? isolation.rules : [];
          }),
        );
        const reasons = [
          ...new Set(
            onePodPerClass(context, workload).flatMap((pod) => {
              const isolation = isolationOfPod(pod);
              return isolation.kind === 'open' ? isolation.reasons : [];
            }),
          ),
        ];
        const notes = [
          open.length === workload.pods.length
            ? tierRules.length === 0
              ? `no NetworkPolicy in ${workload.namespace} selects ${workload.id} for ${Type}: every ${direction === 'ingress' ? 'source' : 'destination'} is allowed`
              : `no NetworkPolicy in ${workload.namespace} selects ${workload.id} for ${Type}, and the Admin/Baseline-tier rules that select it do not deny by default`
            : `not ${direction}-isolated: ${open.length} of ${workload.pods.length} pods of ${workload.id} (${open
                .slice(0, 10)
                .map((p) => p.name)
                .join(', ')}${open.length > 10 ? ', …' : ''})`,
          ...reasons,
        ];
        if (hostNetwork.length > 0)
          notes.push(
            'hostNetwork pod(s): NetworkPolicy does not apply to them (see HIPAA-NP-023); a policy cannot fix this',
          );
        const connections = connectionsOfIndexed(context, workload.id, direction);
        const evidence = mergeEvidence(
          { notes, rules: tierRules.map((rule) => tierRuleEvidence(rule)) },
          edgesOf(connections),
        );
        findings.push({
          status: 'fail',
          objects: [workload.id],
          evidence,
          remediation:
            hostNetwork.length > 0
              ? { text: `Run ${workload.id} without hostNetwork, then select it with a NetworkPolicy.` }
              : {
                  text:
                    direction === 'ingress'
                      ? `Select ${workload.id} with a policy of type Ingress (below, it denies all ingress), then allow only the flows it needs. ${selectorNote(workload)}`
                      : `Select ${workload.id} with a policy of type Egress (below, it allows only cluster DNS), then allow only the destinations it needs. ${selectorNote(workload)}`,
                  yaml:
                    direction === 'ingress'
                      ? denyIngressYaml(context, workload)
                      : dnsOnlyEgressYaml(context, workload),
                },
          location: locationOf(workload.provenance),
        });
      }
      if (byTiersOnly.length > 0) findings.push(tierIsolationPass(byTiersOnly, direction));
      return findings;
    },
  };
}

/** The PHI workloads that only Admin/Baseline-tier rules isolate: one pass naming them and the rules. */
function tierIsolationPass(
  isolated: readonly { workload: Workload; rules: TierRule[] }[],
  direction: Direction,
): FindingDraft {
  const rules = uniqueRules(isolated.flatMap((i) => i.rules));
  const ids = isolated.map((i) => i.workload.id);
  const peers =
    direction === 'ingress'
      ? 'every pod of every namespace, present or future,'
      : 'every pod of every namespace, present or future, and every address';
  const listed = `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ` and ${ids.length - 10} more` : ''}`;
  const notes = [
    `no NetworkPolicy selects ${listed} for ${direction === 'ingress' ? 'Ingress' : 'Egress'}; the Admin/Baseline tier isolates ${ids.length === 1 ? 'it' : 'them'}: ${peers} is denied unless a rule allows it first (${rules.map(tierRuleNote).join(', ')})`,
  ];
  if (direction === 'ingress')
    notes.push(
      'Admin/Baseline-tier ingress rules cannot name sources outside the cluster: those are allowed by default (HIPAA-NP-009 checks them)',
    );
  return {
    status: 'pass',
    objects: ids,
    evidence: { rules: rules.map((rule) => tierRuleEvidence(rule)), notes },
    location: locationOf((rules[0] as TierRule).rule.provenance),
  };
}

/** A policy that selects every pod of its namespace and has no rules for a direction it isolates. */
function deniesAll(policy: NetworkPolicy, direction: Direction): boolean {
  return isEmptySelector(policy.podSelector) && policy.isolates[direction] && policy[direction].length === 0;
}

/**
 * 007: a NetworkPolicy with podSelector {} and no rules, per direction; or its Admin/Baseline-tier
 * equivalent (tier-support.ts `namespaceDenyByDefault`): policies whose subject is every pod of the
 * namespace deny every peer by default. A namespace that relies on the tier passes with the rules named.
 */
const check007: Check = {
  id: 'HIPAA-NP-007',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const namespace of phiNamespaces(context)) {
      const policies = policiesIn(context, namespace);
      const ingress = policies.find((p) => deniesAll(p, 'ingress'));
      const egress = policies.find((p) => deniesAll(p, 'egress'));
      if (ingress && egress) continue;
      const notes: string[] = [];
      const tierRules: TierRule[] = [];
      let satisfied = true;
      for (const [direction, found] of [
        ['ingress', ingress],
        ['egress', egress],
      ] as const) {
        if (found) {
          notes.push(
            `${direction} denied by default by ${namespace}/${found.name} (${where(found.provenance)})`,
          );
          continue;
        }
        const tier = namespaceDenyByDefault(context, namespace, direction);
        if (tier && 'closedBy' in tier) {
          tierRules.push(...tier.closedBy);
          notes.push(
            `${direction} denied by default by the Admin/Baseline tier, for every pod of ${namespace}: ${tier.closedBy.map(tierRuleNote).join(', ')}`,
          );
          continue;
        }
        satisfied = false;
        notes.push(
          tier
            ? `no policy with podSelector {} denies ${direction} by default in ${namespace}, nor does the Admin/Baseline tier: ${tier.reasons.join('; ')}`
            : `no policy with podSelector {} denies ${direction} by default in ${namespace}`,
        );
      }
      if (satisfied) {
        findings.push({
          status: 'pass',
          objects: [namespace],
          evidence: { rules: uniqueRules(tierRules).map((rule) => tierRuleEvidence(rule)), notes },
          location: locationOf((tierRules[0] as TierRule).rule.provenance),
        });
        continue;
      }
      notes.push(`${policies.length} NetworkPolicy(ies) in ${namespace}`);
      const anchor = ingress ?? egress ?? context.snapshot.workloads.find((w) => w.namespace === namespace);
      const name = uniquePolicyName(context, namespace, 'default-deny');
      const yaml =
        name === 'default-deny'
          ? defaultDenyYaml(namespace)
          : policyYaml(namespace, name, 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: { notes },
        remediation: {
          text: `Add a default-deny policy to ${namespace} (every pod, both directions, no rules), then allow each needed flow explicitly, including DNS egress to kube-dns.`,
          yaml,
        },
        location: anchor ? locationOf(anchor.provenance) : undefined,
      });
    }
    return findings;
  },
};

/**
 * 008: a namespace without NetworkPolicies fails, unless the Admin/Baseline tier denies by default
 * there in both directions (the usual role of a BaselineAdminNetworkPolicy); those pass together, named.
 */
const check008: Check = {
  id: 'HIPAA-NP-008',
  run(context) {
    const withPolicies = new Set(context.engine.currentPolicies.map((p) => p.namespace));
    const excluded = new Set(context.config.excludedNamespaces);
    const findings: FindingDraft[] = [];
    const covered: string[] = [];
    const coveringRules: TierRule[] = [];
    for (const namespace of [...context.snapshot.namespaces.keys()].sort()) {
      if (excluded.has(namespace) || withPolicies.has(namespace)) continue;
      const tiers = (['ingress', 'egress'] as const).map((d) =>
        namespaceDenyByDefault(context, namespace, d),
      );
      if (tiers.every((t) => t && 'closedBy' in t)) {
        covered.push(namespace);
        for (const t of tiers) if (t && 'closedBy' in t) coveringRules.push(...t.closedBy);
        continue;
      }
      const workloads = context.snapshot.workloads.filter((w) => w.namespace === namespace);
      const reasons = tiers.flatMap((t) => (t && 'reasons' in t ? t.reasons : []));
      const what =
        reasons.length > 0
          ? 'are not denied by default by the Admin/Baseline tier either'
          : 'accept and send all traffic';
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: {
          notes: [
            workloads.length > 0
              ? `no NetworkPolicy in ${namespace}: its ${workloads.length} workload(s) (${workloads
                  .slice(0, 10)
                  .map((w) => w.id)
                  .join(', ')}${workloads.length > 10 ? ', …' : ''}) ${what}`
              : reasons.length > 0
                ? `no NetworkPolicy in ${namespace}, and the Admin/Baseline tier does not deny by default there`
                : `no NetworkPolicy in ${namespace}: any pod created there will accept and send all traffic`,
            ...reasons,
          ],
        },
        remediation: {
          text: `Add a default-deny policy to ${namespace}, then allow the flows its workloads need (or list it in excludedNamespaces if it is out of scope).`,
          yaml: defaultDenyYaml(namespace),
        },
        location: workloads[0] ? locationOf(workloads[0].provenance) : undefined,
      });
    }
    if (covered.length > 0) {
      const rules = uniqueRules(coveringRules);
      findings.push({
        status: 'pass',
        objects: covered,
        evidence: {
          rules: rules.map((rule) => tierRuleEvidence(rule)),
          notes: [
            `no NetworkPolicy in ${covered.join(', ')}; the Admin/Baseline tier denies both directions by default there (${rules.map(tierRuleNote).join(', ')})`,
          ],
        },
        location: locationOf((rules[0] as TierRule).rule.provenance),
      });
    }
    return findings;
  },
};

// ---------------------------------------------------------------------------------------------------
// 009 and 010: who may send to a PHI workload. Addresses come from the computed connectivity; "every
// namespace" is answered by evaluating each admitting rule's selectors on a namespace that does not
// exist yet, since a namespace anyone creates later is exactly what "every namespace" must include.

const FAMILIES = [
  { name: 'IPv4', range: [ALL_ADDRESSES[0]] as IntervalSet<bigint>, probe: '203.0.113.10' },
  { name: 'IPv6', range: [ALL_ADDRESSES[1]] as IntervalSet<bigint>, probe: '2001:db8::10' },
] as const;

/** Ports open to every public address of a family, from the workload's computed external ingress. */
function portsOpenToEveryAddress(
  connections: readonly Connection[],
  family: IntervalSet<bigint>,
): PortSet | undefined {
  let covered: IntervalSet<bigint> = [];
  let ports: PortSet = ALL_PORTS;
  for (const connection of connections) {
    if (!('external' in connection.src)) continue;
    const addresses = subtract(intersect(addressSet(connection.src.external), family), NON_PUBLIC_ADDRESSES);
    if (addresses.length === 0) continue;
    covered = union(covered, addresses);
    ports = intersectPorts(ports, connection.ports);
  }
  const complete = subtract(subtract(family, NON_PUBLIC_ADDRESSES), covered).length === 0;
  return complete && !isEmptyPorts(ports) ? ports : undefined;
}

interface BroadPeer {
  /** A NetworkPolicy rule, or an Admin- or Baseline-tier Allow rule. */
  rule: PolicyRule | ClusterRule;
  policy: NetworkPolicy | ClusterPolicy;
  /** Index of the peer in `from`; undefined when the rule has no `from` and admits everyone. */
  peer?: number;
  /** Every pod of every namespace: selectors that select everything, or no `from` at all. */
  allPods: boolean;
  /** The namespace selector excludes some namespaces by label, yet admits a new unlabelled one. */
  denyList: boolean;
  ports: PortSet;
}

const UNSEEN_NAMESPACE = { [NAME_LABEL]: 'phiwall-unseen-namespace' };

/**
 * Rules that admit pods of any namespace, present or future: ingress rules of policies isolating the
 * workload (when pods of a new namespace reach the NetworkPolicy tier at all: an Admin-tier Deny for
 * every pod decides them first), and Admin- or Baseline-tier Allow rules on the way.
 */
function broadPeers(context: AuditContext, workload: Workload): BroadPeer[] {
  const found: BroadPeer[] = [];
  const seen = new Set<string>();
  const add = (key: string, broad: BroadPeer) => {
    if (seen.has(key)) return;
    seen.add(key);
    found.push(broad);
  };
  for (const pod of onePodPerClass(context, workload)) {
    const side = context.engine.explainSide(pod, { ip: FAMILIES[0].probe }, 'ingress');
    const tiers = futureSourceWalk(context, pod, side.isolatedBy.length > 0);
    for (const broad of tiers.broad) add(`${clusterRuleId(broad.policy, broad.rule)}/${broad.peer}`, broad);
    if (!tiers.reachesNetworkPolicy) continue;
    for (const policy of side.isolatedBy) {
      for (const rule of policy.ingress) {
        const ports = portsOf(rule.ports, context.engine.classOf(pod));
        if (isEmptyPorts(ports)) continue;
        const hits: { peer?: number; allPods: boolean; denyList: boolean }[] = [];
        if (rule.peers === undefined) hits.push({ allPods: true, denyList: false });
        rule.peers?.forEach((peer, index) => {
          if (peer.kind !== 'pods' || !peer.namespaceSelector) return;
          if (!selectorMatches(peer.namespaceSelector, UNSEEN_NAMESPACE)) return;
          const denyList = !isEmptySelector(peer.namespaceSelector);
          const anyPod = !peer.podSelector || isEmptySelector(peer.podSelector);
          hits.push({ peer: index, allPods: anyPod && !denyList, denyList });
        });
        for (const hit of hits)
          add(`${policy.namespace}/${policy.name}/${rule.index}/${hit.peer}`, {
            rule,
            policy,
            ...hit,
            ports,
          });
      }
    }
  }
  return found;
}

function broadPeerEvidence(broad: BroadPeer): { rule: string; at: string } {
  if ('kind' in broad.policy) {
    const id = clusterRuleId(broad.policy, broad.rule as ClusterRule);
    return { rule: `${id} from[${broad.peer}]`, at: where(broad.rule.provenance) };
  }
  const path = `${broad.policy.namespace}/${broad.policy.name}#spec.ingress[${broad.rule.index}]`;
  return {
    rule: broad.peer === undefined ? path : `${path}.from[${broad.peer}]`,
    at: where(broad.rule.provenance),
  };
}

const openCache = new WeakMap<AuditContext, Map<string, boolean>>();

/** Asked once per workload and audit: 011 asks it for every PHI workload each namespace reaches. */
function notIngressIsolated(context: AuditContext, workload: Workload): boolean {
  let cache = openCache.get(context);
  if (!cache) {
    cache = new Map();
    openCache.set(context, cache);
  }
  let open = cache.get(workload.id);
  if (open === undefined) {
    open = onePodPerClass(context, workload).some((pod) => !isIsolated(isolationOf(context, pod, 'ingress')));
    cache.set(workload.id, open);
  }
  return open;
}

/** What "not ingress-isolated" means for the workload, for notes. */
function openIngressNote(context: AuditContext, workload: Workload, tail: string): string {
  const tiers = onePodPerClass(context, workload).some((pod) => {
    const isolation = isolationOf(context, pod, 'ingress');
    return isolation.kind === 'open' && isolation.rules.length > 0;
  });
  return tiers
    ? `not ingress-isolated: no NetworkPolicy selects it for Ingress and the Admin/Baseline-tier rules that select it do not deny by default${tail}`
    : `not ingress-isolated: no policy selects it for Ingress${tail}`;
}

function fromOtherNamespaces(context: AuditContext, workload: Workload): Connection[] {
  return connectionsOfIndexed(context, workload.id, 'ingress').filter(
    (c) => 'workload' in c.src && context.workloadById.get(c.src.workload)?.namespace !== workload.namespace,
  );
}

function restrictRemediation(
  context: AuditContext,
  workload: Workload,
  what: string,
): FindingDraft['remediation'] {
  const allowed = context.config.allowedIngressNamespaces;
  return {
    text: `Remove or narrow the rules cited so that ${workload.id} no longer accepts ${what}; the policy below admits only pods of its own namespace${
      allowed.length > 0
        ? ` and of ${allowed.join(', ')} (allowedIngressNamespaces, named by ${NAME_LABEL})`
        : ''
    }. ${ADDITIVE_NOTE}. ${selectorNote(workload)}`,
    yaml: restrictedIngressYaml(context, workload),
  };
}

const check009: Check = {
  id: 'HIPAA-NP-009',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const ingress = connectionsOfIndexed(context, workload.id, 'ingress');
      const external = ingress.filter((c) => 'external' in c.src);
      const parts: Evidence[] = [];
      for (const family of FAMILIES) {
        const ports = portsOpenToEveryAddress(external, family.range);
        if (!ports) continue;
        parts.push({
          notes: [`accepts ingress from every public ${family.name} address on ${formatPorts(ports)}`],
          rules: rulesOf(context, workload, { ip: family.probe }, 'ingress'),
        });
      }
      const everyPod = broadPeers(context, workload).filter((b) => b.allPods);
      if (everyPod.length > 0) {
        parts.push({
          notes: [
            `accepts ingress from every pod of every namespace, including namespaces created later, on ${formatPorts(
              everyPod.reduce((acc, b) => unionPorts(acc, b.ports), NO_PORTS),
            )}`,
          ],
          rules: everyPod.map(broadPeerEvidence),
        });
      }
      if (parts.length === 0) continue;
      if (notIngressIsolated(context, workload))
        parts.push({ notes: [openIngressNote(context, workload, ' (HIPAA-NP-005)')] });
      else if (external.length > 0) {
        const byTiers = uniqueRules(
          onePodPerClass(context, workload).flatMap((pod) => {
            const isolation = isolationOf(context, pod, 'ingress');
            return isolation.kind === 'tiers' ? isolation.rules : [];
          }),
        );
        if (byTiers.length > 0)
          parts.push({
            notes: [
              `isolated from pods by the Admin/Baseline tier (${byTiers.map(tierRuleNote).join(', ')}), not by a NetworkPolicy: those ingress rules cannot name sources outside the cluster, which are allowed by default; a NetworkPolicy selecting it for Ingress closes them`,
            ],
          });
      }
      const shown = [...external, ...(everyPod.length > 0 ? fromOtherNamespaces(context, workload) : [])];
      const evidence = mergeEvidence(...parts, edgesOf(shown));
      const firstPolicy = everyPod[0]?.policy;
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence,
        remediation: restrictRemediation(context, workload, 'traffic from every address'),
        location: locationOf(
          firstPolicy?.provenance ?? policyOfRule(context, evidence.rules?.[0]) ?? workload.provenance,
        ),
      });
    }
    return findings;
  },
};

const policyIndex = new WeakMap<AuditContext, Map<string, NetworkPolicy>>();

/** The policy named by a rule evidence entry (`ns/policy#…`), for the finding's location. */
function policyOfRule(context: AuditContext, rule: RuleRef | undefined): Provenance | undefined {
  if (!rule) return undefined;
  // An Admin/Baseline-tier rule (`AdminNetworkPolicy/x ingress[0] …`): the finding points at the rule.
  const cluster = context.snapshot.clusterPolicies.find((p) =>
    rule.rule.startsWith(`${clusterPolicyId(p)} `),
  );
  if (cluster) {
    const entry = [...cluster.ingress, ...cluster.egress].find((r) =>
      rule.rule.startsWith(`${clusterRuleId(cluster, r)} `),
    );
    return entry?.provenance ?? cluster.provenance;
  }
  const policies = context.engine.currentPolicies;
  let index = policyIndex.get(context);
  if (!index) {
    index = new Map(policies.map((p) => [`${p.namespace}/${p.name}`, p]));
    policyIndex.set(context, index);
  }
  return index.get(rule.rule.slice(0, rule.rule.indexOf('#')))?.provenance;
}

const check010: Check = {
  id: 'HIPAA-NP-010',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const broad = broadPeers(context, workload);
      const open = notIngressIsolated(context, workload);
      if (broad.length === 0 && !open) continue;
      const notes = broad.map(
        (b) =>
          `${broadPeerEvidence(b).rule} admits ${b.allPods ? 'every pod' : 'pods matching its podSelector'} of ${
            b.denyList
              ? 'every namespace its namespaceSelector does not exclude, so of any new namespace created without labels,'
              : 'every namespace, including namespaces created later,'
          } on ${formatPorts(b.ports)}`,
      );
      if (open) notes.push(openIngressNote(context, workload, ', so every namespace may reach it'));
      const evidence = mergeEvidence(
        { rules: broad.map(broadPeerEvidence), notes },
        edgesOf(fromOtherNamespaces(context, workload)),
      );
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence,
        remediation: restrictRemediation(context, workload, 'traffic from every namespace'),
        location: locationOf(broad[0]?.policy.provenance ?? workload.provenance),
      });
    }
    return findings;
  },
};

/** Endpoints standing for one side of a connection: a pod per class, or an address per block. */
function endpointsOf(context: AuditContext, peer: ConnectionPeer): Endpoint[] {
  if ('workload' in peer) {
    const workload = context.workloadById.get(peer.workload);
    return workload ? onePodPerClass(context, workload).map((pod) => ({ pod })) : [];
  }
  return peer.external.slice(0, 16).map((cidr) => ({ ip: cidr.slice(0, cidr.indexOf('/')) }));
}

const check011: Check = {
  id: 'HIPAA-NP-011',
  run(context) {
    const allowed = new Set(context.config.allowedIngressNamespaces);
    const phiSpaces = new Set(phiNamespaces(context));
    const bySource = new Map<string, Connection[]>();
    for (const workload of phiWorkloads(context)) {
      for (const connection of connectionsOfIndexed(context, workload.id, 'ingress')) {
        if (!('workload' in connection.src)) continue;
        const namespace = context.workloadById.get(connection.src.workload)?.namespace;
        if (namespace === undefined || allowed.has(namespace) || phiSpaces.has(namespace)) continue;
        const list = bySource.get(namespace);
        if (list) list.push(connection);
        else bySource.set(namespace, [connection]);
      }
    }
    const findings: FindingDraft[] = [];
    for (const [namespace, connections] of [...bySource].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const targets = [...new Set(connections.map((c) => ('workload' in c.dst ? c.dst.workload : '')))]
        .map((id) => context.workloadById.get(id))
        .filter((w): w is Workload => w !== undefined);
      const rules = connections.flatMap((c) => {
        const target = 'workload' in c.dst ? context.workloadById.get(c.dst.workload) : undefined;
        const peer = endpointsOf(context, c.src)[0];
        return target && peer ? rulesOf(context, target, peer, 'ingress') : [];
      });
      const unisolated = targets.filter((w) => notIngressIsolated(context, w));
      const notes = [
        `${namespace} is not in allowedIngressNamespaces (${[...allowed].join(', ') || 'empty'}) and holds no PHI, yet reaches ${targets.length} PHI workload(s): ${targets
          .slice(0, 10)
          .map((w) => w.id)
          .join(', ')}${targets.length > 10 ? ', …' : ''}`,
      ];
      if (unisolated.length > 0)
        notes.push(
          `not ingress-isolated, so reachable from everywhere: ${unisolated.map((w) => w.id).join(', ')}`,
        );
      const evidence = mergeEvidence({ rules, notes }, edgesOf(connections));
      const firstRule = evidence.rules?.[0];
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence,
        remediation: {
          text: `Stop ${namespace} from reaching PHI: remove or narrow the rules cited, admitting only named namespaces (below, one policy per PHI workload reached${
            targets.length > MAX_REMEDIATIONS
              ? `; the first ${MAX_REMEDIATIONS} of ${targets.length}, the others take the same shape`
              : ''
          }), or add ${namespace} to allowedIngressNamespaces if it must reach PHI. ${ADDITIVE_NOTE}.`,
          yaml: targets
            .slice(0, MAX_REMEDIATIONS)
            .map((w) => restrictedIngressYaml(context, w))
            .join('---\n'),
        },
        location: locationOf(policyOfRule(context, firstRule) ?? (targets[0] as Workload).provenance),
      });
    }
    return findings;
  },
};

/** `ns/name[Kind]` or `ns/name`, as approvedFlows may name a workload either way. */
function namesWorkload(name: string, workload: Workload): boolean {
  return name === workload.id || name === `${workload.namespace}/${workload.name}`;
}

function approvedPorts(config: AuditConfig, src: Workload, dst: Workload): PortSet {
  let ports = NO_PORTS;
  for (const flow of config.approvedFlows) {
    if (!namesWorkload(flow.from, src) || !namesWorkload(flow.to, dst)) continue;
    const range: [number, number] = flow.port === undefined ? [1, 65535] : [flow.port, flow.port];
    ports = unionPorts(ports, portSetOf(flow.protocol, [range]));
  }
  return ports;
}

/** `approvedFlows` entries covering the ports, ready to paste into phiwall.yaml once reviewed. */
function approvedFlowsYaml(src: Workload, dst: Workload, ports: PortSet): string {
  const lines = ['approvedFlows:'];
  const from = `${src.namespace}/${src.name}`;
  const to = `${dst.namespace}/${dst.name}`;
  for (const protocol of PROTOCOLS) {
    const ranges = ports[protocol];
    const count = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
    if (count === 0) continue;
    if (count > 20) {
      lines.push(`  - {from: ${from}, to: ${to}, protocol: ${protocol}}  # every ${protocol} port`);
      continue;
    }
    for (const [lo, hi] of ranges) {
      for (let port = lo; port <= hi; port++)
        lines.push(`  - {from: ${from}, to: ${to}, port: ${port}, protocol: ${protocol}}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const check012: Check = {
  id: 'HIPAA-NP-012',
  run(context) {
    const review = context.config.approvedFlows.length === 0;
    const findings: FindingDraft[] = [];
    for (const dst of phiWorkloads(context)) {
      for (const connection of connectionsOfIndexed(context, dst.id, 'ingress')) {
        if (!('workload' in connection.src) || isPhi(context, connection.src.workload)) continue;
        const src = context.workloadById.get(connection.src.workload);
        if (!src) continue;
        const unapproved = subtractPorts(connection.ports, approvedPorts(context.config, src, dst));
        if (isEmptyPorts(unapproved)) continue;
        const pod = src.pods[0];
        const rules = pod ? rulesOf(context, dst, { pod }, 'ingress') : [];
        const notes = review
          ? ['approvedFlows is empty: a person must confirm this flow into PHI is intended']
          : [`not approved: ${formatPorts(unapproved)} (no approvedFlows entry covers it)`];
        findings.push({
          status: review ? 'needs-review' : 'fail',
          objects: [src.id, dst.id],
          evidence: { edges: [edgeText(connection)], rules, notes },
          remediation: {
            text: `If the flow ${src.id} -> ${dst.id} is intended, add it to approvedFlows in phiwall.yaml (below); otherwise remove or narrow the rules cited.`,
            yaml: approvedFlowsYaml(src, dst, unapproved),
          },
          location: locationOf(policyOfRule(context, rules?.[0]) ?? dst.provenance),
        });
      }
    }
    return findings;
  },
};

/** Namespace-wide DNS to cluster pods is the recommended companion of a default-deny, not a broad allow. */
function isClusterDnsOnly(rule: PolicyRule): boolean {
  if (rule.direction !== 'egress' || !rule.peers || rule.peers.length === 0) return false;
  if (!rule.peers.every((p) => p.kind === 'pods')) return false;
  return (
    rule.ports !== undefined &&
    rule.ports.length > 0 &&
    rule.ports.every((p) => p.port === 53 && p.endPort === undefined && p.protocol !== 'SCTP')
  );
}

const check028: Check = {
  id: 'HIPAA-NP-028',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const namespace of phiNamespaces(context)) {
      const broad = policiesIn(context, namespace).filter((p) => isEmptySelector(p.podSelector));
      if (broad.length === 0) continue;
      // Which broad rules actually admit computed traffic, and which edges they admit.
      const used = new Map<NetworkPolicy, { rules: Map<string, string>; edges: Set<Connection> }>();
      for (const workload of context.snapshot.workloads.filter((w) => w.namespace === namespace)) {
        for (const direction of ['ingress', 'egress'] as Direction[]) {
          for (const connection of connectionsOfIndexed(context, workload.id, direction)) {
            const other = direction === 'ingress' ? connection.src : connection.dst;
            for (const [pod, peer] of onePodPerClass(context, workload).flatMap((pod) =>
              endpointsOf(context, other).map((peer) => [pod, peer] as const),
            )) {
              const side = context.engine.explainSide(pod, peer, direction);
              // Limited to what the NetworkPolicy tier decided: an Admin-tier rule may override it.
              for (const allowing of allowingRules(side)) {
                if (allowing.kind !== 'networkPolicy') continue;
                const { policy, rule, ports } = allowing;
                if (!broad.includes(policy) || isEmptyPorts(ports) || isClusterDnsOnly(rule)) continue;
                const entry = used.get(policy) ?? { rules: new Map<string, string>(), edges: new Set() };
                const path = `${policy.namespace}/${policy.name}#spec.${direction}[${rule.index}]`;
                if (!entry.rules.has(path)) entry.rules.set(path, where(rule.provenance));
                entry.edges.add(connection);
                used.set(policy, entry);
              }
            }
          }
        }
      }
      for (const policy of broad) {
        const entry = used.get(policy);
        if (!entry) continue;
        findings.push({
          status: 'fail',
          objects: [`${policy.namespace}/${policy.name}`],
          evidence: mergeEvidence(
            {
              rules: [...entry.rules].map(([rule, at]) => ({ rule, at })),
              notes: [
                `${policy.namespace}/${policy.name} selects every pod of PHI namespace ${namespace} (podSelector: {}) and its rules allow traffic`,
              ],
            },
            edgesOf([...entry.edges]),
          ),
          remediation: {
            text: `Replace podSelector: {} in ${policy.namespace}/${policy.name} with a selector naming only the workloads that need these flows, or move the rules into per-workload policies; keep podSelector: {} for default-deny and cluster DNS only.`,
          },
          location: locationOf(policy.provenance),
        });
      }
    }
    return findings;
  },
};

export const scopeAndIngressChecks: readonly Check[] = [
  check001,
  check004,
  isolationCheck('HIPAA-NP-005', 'ingress'),
  isolationCheck('HIPAA-NP-006', 'egress'),
  check007,
  check008,
  check009,
  check010,
  check011,
  check012,
  check028,
];
