import type { LabelSelector, Workload } from '../../model/types.ts';
import { NAME_LABEL } from '../checks/support.ts';
import { policiesIn } from '../checks/util-scope.ts';
import type { AuditContext } from '../types.ts';
import { policyYaml, scalar } from './manifests.ts';

/** A pod selector for the workload alone, when its pods carry labels that can name it. */
export function workloadSelector(workload: Workload): LabelSelector | undefined {
  const labels = workload.pods[0]?.labels ?? {};
  const own = Object.fromEntries(Object.entries(labels).filter(([key]) => key !== 'pod-template-hash'));
  return Object.keys(own).length ? { matchLabels: own, matchExpressions: [] } : undefined;
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

function matchLabelsYaml(labels: readonly [string, string][], indent: string): string {
  if (labels.length === 0) return ' {}';
  return `\n${indent}  matchLabels:\n${labels.map(([k, v]) => `${indent}    ${scalar(k)}: ${scalar(v)}`).join('\n')}`;
}

export function uniquePolicyName(context: AuditContext, namespace: string, base: string): string {
  const taken = new Set(policiesIn(context, namespace).map((p) => p.name));
  const stem = base.slice(0, 240);
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

export function selectorNote(workload: Workload): string {
  return stableLabels(workload).length === 0
    ? `${workload.id} has no stable pod labels, so the policy below selects every pod of namespace ${workload.namespace}; label the workload and narrow the selector.`
    : `The policy below selects the pod labels of ${workload.id}; check that they select no other workload.`;
}

export function denyIngressYaml(context: AuditContext, workload: Workload): string {
  return policyYaml(
    workload.namespace,
    uniquePolicyName(context, workload.namespace, `${workload.name}-ingress`),
    `podSelector:${matchLabelsYaml(stableLabels(workload), '')}
policyTypes: [Ingress]
# Isolates the workload; add an ingress rule per flow it needs (HIPAA-NP-012 lists them).
ingress: []`,
  );
}

export function dnsOnlyEgressYaml(context: AuditContext, workload: Workload): string {
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
export function restrictedIngressYaml(context: AuditContext, workload: Workload): string {
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

export const ADDITIVE_NOTE =
  'NetworkPolicies are additive: the rules cited in the evidence keep allowing the traffic until they are removed or narrowed';
