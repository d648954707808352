import type { LabelSelector, Labels, NetworkPolicy } from '../../model/types.ts';
import type { AuditConfig } from '../config.ts';
import { matchingLabel } from '../phi-scope.ts';
import type { AuditContext } from '../types.ts';
import { phiWorkloads } from './support.ts';

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

/** The config's PHI label, as people should write it (`data-classification: phi`). */
export function phiLabelHint(config: AuditConfig): string {
  const selector = config.phi.selectors[0];
  return selector ? `${selector.key}: ${selector.values[0]}` : 'data-classification: phi';
}

function labelsMatch(labels: Labels, config: AuditConfig): boolean {
  return matchingLabel(labels, config.phi.selectors) !== undefined;
}

/** Namespaces labelled PHI, and namespaces holding a PHI workload. */
export function phiNamespaces(context: AuditContext): string[] {
  const names = new Set(phiWorkloads(context).map((w) => w.namespace));
  for (const namespace of context.snapshot.namespaces.values()) {
    if (labelsMatch(namespace.labels, context.config)) names.add(namespace.name);
  }
  return [...names].sort();
}

const policiesByNamespace = new WeakMap<AuditContext, Map<string, NetworkPolicy[]>>();

export function policiesIn(context: AuditContext, namespace: string): NetworkPolicy[] {
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
