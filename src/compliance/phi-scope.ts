import type { Labels, Snapshot, Workload } from '../model/types.ts';
import type { AuditConfig, LabelMatch } from './config.ts';

export interface PhiScope {
  /** PHI workloads, each with the label that made it PHI (`ns label data-classification=phi` …). */
  phi: Map<string, string>;
  /** In HIPAA scope without holding PHI. */
  connected: Map<string, string>;
  /** Objects that carry a PHI marker only as an annotation, which policies cannot select. */
  annotationOnly: string[];
}

/** `data-classification` also matches `example.com/data-classification`. */
export function matchingLabel(
  labels: Labels | undefined,
  selectors: readonly LabelMatch[],
): string | undefined {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    if (selectors.some((s) => s.key === name && s.values.includes(value))) return `${key}=${value}`;
  }
  return undefined;
}

/** The last scope per workload list: a served generation asks twice, and the next one keeps the list when only policies changed. */
const scopes = new WeakMap<
  Snapshot['workloads'],
  { namespaces: Snapshot['namespaces']; config: AuditConfig; scope: PhiScope }
>();

/** Which workloads hold PHI or are connected to it; shared between callers: read only. */
export function phiScope(snapshot: Snapshot, config: AuditConfig): PhiScope {
  const kept = scopes.get(snapshot.workloads);
  if (kept?.namespaces === snapshot.namespaces && kept.config === config) return kept.scope;
  const scope = classifyWorkloads(snapshot, config);
  scopes.set(snapshot.workloads, { namespaces: snapshot.namespaces, config, scope });
  return scope;
}

function classifyWorkloads(snapshot: Snapshot, config: AuditConfig): PhiScope {
  const scope: PhiScope = { phi: new Map(), connected: new Map(), annotationOnly: [] };
  const classify = (workload: Workload, selectors: readonly LabelMatch[]) => {
    const namespace = matchingLabel(snapshot.namespaces.get(workload.namespace)?.labels, selectors);
    if (namespace) return `namespace ${workload.namespace} has ${namespace}`;
    const pod = workload.pods.map((p) => matchingLabel(p.labels, selectors)).find(Boolean);
    return pod ? `pod label ${pod}` : undefined;
  };
  for (const workload of snapshot.workloads) {
    const phi = classify(workload, config.phi.selectors);
    if (phi) {
      scope.phi.set(workload.id, phi);
      continue;
    }
    const connected = classify(workload, config.phi.connectedSelectors);
    if (connected) scope.connected.set(workload.id, connected);
    const annotations = workload.pods[0]?.annotations;
    if (matchingLabel(annotations, config.phi.selectors)) scope.annotationOnly.push(workload.id);
  }
  return scope;
}
