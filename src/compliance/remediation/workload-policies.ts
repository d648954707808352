import { formatPorts, type PortSet, unionPorts } from '../../engine/ports.ts';
import {
  type LabelSelector,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Workload,
} from '../../model/types.ts';
import { approvedPorts, namesWorkload } from '../checks/approved-flows.ts';
import { connectionsOf, NAME_LABEL } from '../checks/support.ts';
import { policiesIn } from '../checks/util-scope.ts';
import type { AuditContext } from '../types.ts';
import { indent, policyYaml, ruleYaml, scalar, selectorYaml } from './manifests.ts';

// Labels that change with a rollout, a chart upgrade or per pod: a remediation selecting on them stops
// selecting the pods when they change, silently.
const VOLATILE_LABELS = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
  'job-name',
  'app.kubernetes.io/version',
  'helm.sh/chart',
  'chart',
  'version',
  'service.istio.io/canonical-revision',
]);

/**
 * The selector a remediation selects the workload by: its controller's `spec.selector`, which the
 * controller itself keeps matching across rollouts; else the template labels every pod shares, without
 * the volatile ones. Undefined when nothing is left.
 */
export function workloadSelector(workload: Workload): LabelSelector | undefined {
  if (workload.selector) {
    const matchLabels = Object.fromEntries(
      Object.entries(workload.selector.matchLabels).filter(([key]) => !VOLATILE_LABELS.has(key)),
    );
    const matchExpressions = workload.selector.matchExpressions.filter((e) => !VOLATILE_LABELS.has(e.key));
    if (Object.keys(matchLabels).length > 0 || matchExpressions.length > 0)
      return { matchLabels, matchExpressions };
  }
  const [first, ...rest] = workload.pods;
  if (!first) return undefined;
  const labels = Object.entries(first.labels)
    .filter(([key, value]) => !VOLATILE_LABELS.has(key) && rest.every((p) => p.labels[key] === value))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return labels.length ? { matchLabels: Object.fromEntries(labels), matchExpressions: [] } : undefined;
}

/** `podSelector:` and what follows, block style where the selector is plain labels. */
export function podSelectorYaml(workload: Workload): string {
  const selector = workloadSelector(workload);
  if (!selector) return 'podSelector: {}';
  if (selector.matchExpressions.length > 0) return `podSelector: ${selectorYaml(selector)}`;
  const labels = Object.entries(selector.matchLabels);
  return `podSelector:\n  matchLabels:\n${labels.map(([k, v]) => `    ${scalar(k)}: ${scalar(v)}`).join('\n')}`;
}

export function uniquePolicyName(context: AuditContext, namespace: string, base: string): string {
  const taken = new Set(policiesIn(context, namespace).map((p) => p.name));
  const stem = base.slice(0, 240);
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

export function selectorNote(workload: Workload): string {
  if (!workloadSelector(workload))
    return `${workload.id} has no stable pod labels, so the policy below selects every pod of namespace ${workload.namespace}; label the workload and narrow the selector.`;
  return workload.selector
    ? `The policy below selects ${workload.id} by its controller's spec.selector, which survives rollouts and chart upgrades.`
    : `The policy below selects the stable pod labels of ${workload.id} (no version, chart or per-pod labels); check that they select no other workload.`;
}

export function denyIngressYaml(context: AuditContext, workload: Workload): string {
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-ingress`),
    `${podSelectorYaml(workload)}
policyTypes: [Ingress]
# Isolates the workload; add an ingress rule per flow it needs (HIPAA-NP-012 lists them).
ingress: []`,
  );
}

export function dnsOnlyEgressYaml(context: AuditContext, workload: Workload): string {
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-egress`),
    `${podSelectorYaml(workload)}
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

/** A source the ingress fix admits, on the ports it admits it on. */
export interface AdmittedSource {
  source: Workload;
  ports: PortSet;
  /** `approved`: an approvedFlows entry; `phi`: a PHI workload reaching it now (inside the ePHI boundary). */
  why: 'approved' | 'phi';
}

/**
 * What an ingress fix admits into a PHI workload: the sources and ports `approvedFlows` names, and the
 * PHI workloads that reach it now on the ports they use. Never a whole namespace, never every port: the
 * allowedIngressNamespaces say who may reach PHI at all, not what a database should accept.
 */
export function admittedSources(context: AuditContext, workload: Workload, phiNow = true): AdmittedSource[] {
  const admitted = new Map<string, AdmittedSource>();
  const add = (source: Workload, ports: PortSet, why: AdmittedSource['why']) => {
    const known = admitted.get(source.id);
    if (known) known.ports = unionPorts(known.ports, ports);
    else admitted.set(source.id, { source, ports, why });
  };
  const names = new Set(
    context.config.approvedFlows.filter((f) => namesWorkload(f.to, workload)).map((f) => f.from),
  );
  if (names.size > 0) {
    for (const source of context.workloadById.values()) {
      if (source.id === workload.id || ![...names].some((name) => namesWorkload(name, source))) continue;
      add(source, approvedPorts(context.config, source, workload), 'approved');
    }
  }
  for (const connection of phiNow ? connectionsOf(context, workload.id, 'ingress') : []) {
    if (!('workload' in connection.src) || !context.phi.phi.has(connection.src.workload)) continue;
    const source = context.workloadById.get(connection.src.workload);
    if (source && !admitted.has(source.id)) add(source, connection.ports, 'phi');
  }
  return [...admitted.values()].sort((a, b) => (a.source.id < b.source.id ? -1 : 1));
}

/** NetworkPolicy ports for a port set; ICMP has no NetworkPolicy port and is left out. */
export function policyPortsOf(ports: PortSet): PolicyPort[] {
  return PROTOCOLS.flatMap((protocol) =>
    ports[protocol].map(([lo, hi]): PolicyPort => {
      if (lo === 1 && hi === 65535) return { protocol };
      return hi === lo ? { protocol, port: lo } : { protocol, port: lo, endPort: hi };
    }),
  );
}

/** A peer selecting the workload's pods, from a policy of `namespace`. */
export function peerOf(source: Workload, namespace: string): PolicyPeer {
  const podSelector = workloadSelector(source) ?? { matchLabels: {}, matchExpressions: [] };
  if (source.namespace === namespace) return { kind: 'pods', podSelector };
  return {
    kind: 'pods',
    namespaceSelector: { matchLabels: { [NAME_LABEL]: source.namespace }, matchExpressions: [] },
    podSelector,
  };
}

/**
 * An ingress policy for the workload with one rule per admitted source (`admittedSources`): the source
 * selected by its namespace's name label and its controller's selector, on exactly its ports.
 */
export function approvedIngressYaml(
  context: AuditContext,
  workload: Workload,
  admitted = admittedSources(context, workload),
): string {
  const rules = admitted.flatMap(({ source, ports }, index) => {
    const policyPorts = policyPortsOf(ports);
    if (policyPorts.length === 0) return [];
    const rule: PolicyRule = {
      direction: 'ingress',
      index,
      peers: [peerOf(source, workload.namespace)],
      ports: policyPorts,
      provenance: workload.provenance,
    };
    return [`# ${source.id}\n${ruleYaml(rule)}`];
  });
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-ingress-approved`),
    `${podSelectorYaml(workload)}
policyTypes: [Ingress]
${rules.length ? `ingress:\n${indent(rules.join('\n'))}` : '# approvedFlows names no source: add the flows it needs (HIPAA-NP-012 offers them).\ningress: []'}`,
  );
}

/** What `approvedIngressYaml` admits, in words, for the remediation text. */
export function admittedText(admitted: readonly AdmittedSource[]): string {
  if (admitted.length === 0)
    return 'the policy below admits nothing: approvedFlows names no source for it and no PHI workload reaches it';
  const list = admitted.map(
    ({ source, ports, why }) => `${source.id} on ${formatPorts(ports)}${why === 'phi' ? ' (PHI)' : ''}`,
  );
  return `the policy below admits only ${list.join(', ')} (approvedFlows, and PHI workloads that reach it now)`;
}

export const ADDITIVE_NOTE =
  'NetworkPolicies are additive: the rules cited in the evidence keep allowing the traffic until they are removed or narrowed';
