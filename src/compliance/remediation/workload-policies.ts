import type { LabelSelector, Workload } from '../../model/types.ts';
import { NAME_LABEL } from '../checks/support.ts';
import { policiesIn } from '../checks/util-scope.ts';
import type { AuditContext } from '../types.ts';
import { policyYaml, scalar, selectorYaml } from './manifests.ts';

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
function podSelectorYaml(workload: Workload): string {
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
    `${podSelectorYaml(workload)}
policyTypes: [Ingress]
ingress:
  # Add the service ports under "ports:" so that only they are open (HIPAA-NP-014).
  - from:
${peers.join('\n')}`,
  );
}

export const ADDITIVE_NOTE =
  'NetworkPolicies are additive: the rules cited in the evidence keep allowing the traffic until they are removed or narrowed';
