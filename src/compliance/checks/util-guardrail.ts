/**
 * HIPAA-NP-033 for policy kinds beyond the Admin tier (Calico's tiers, Cilium's cluster-wide deny
 * rules): a guardrail denies ingress to every PHI pod of a namespace from every non-PHI source, existing
 * ones by the engine's walk and pods of namespaces created later by the kind's own reading of its rules.
 */
import type { SideExplanation } from '../../engine/engine.ts';
import { isKindRule } from '../../engine/kind-rules.ts';
import {
  ALL_PORTS,
  formatPorts,
  isEmptyPorts,
  NO_PORTS,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import type { Pod, Provenance, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';

/** A pod created later in a namespace, whose labels no one knows yet. */
export function futurePod(namespace: string): Pod {
  return { ...FUTURE_POD, namespace, workload: `${namespace}/future[Pod]` };
}

/** A pod of a namespace created later, whose labels no one knows yet. */
export const FUTURE_POD: Pod = {
  namespace: 'phiwall-unseen-namespace',
  name: 'future',
  labels: {},
  annotations: {},
  ips: [],
  namedPorts: [],
  hostNetwork: false,
  containers: [],
  workload: 'phiwall-unseen-namespace/future[Pod]',
  provenance: { file: '<future pod>', locate: () => ({ line: 1, column: 1 }) },
};

export interface Denying {
  rule: string;
  at: string;
  provenance: Provenance;
}

export type Guard = { denying: Denying[] } | { gap: string };

/** What one kind counts as its guardrail. */
export interface GuardrailKind {
  /** Whether a Deny step of the engine's walk is the guardrail's (not a namespace owner's). */
  guards(step: SideExplanation['chain'][number]): boolean;
  /** Where the ports of an existing source it leaves go: `not denied by a tier before the default tier`. */
  gap: string;
  /** The walk for a pod of a namespace created later as the source of ingress to `subject`. */
  futureSource(subject: Pod): Guard;
  /** The passing note, given the namespace and its PHI workloads. */
  note(namespace: string, ids: string): string;
}

/** The ports of an existing source the guardrail does not deny, by the engine's own walk. */
function existingSourceGuard(context: AuditContext, kind: GuardrailKind, subject: Pod, source: Pod): Guard {
  const side = context.engine.explainSide(subject, { pod: source }, 'ingress');
  let denied = NO_PORTS;
  const denying: Denying[] = [];
  for (const step of side.chain) {
    if (step.action !== 'Deny' || !kind.guards(step)) continue;
    denied = unionPorts(denied, step.ports);
    if (step.rule && isKindRule(step.rule))
      denying.push({
        rule: `${step.rule.origin.rule} (Deny)`,
        at: where(step.rule.origin.provenance),
        provenance: step.rule.origin.provenance,
      });
  }
  const open = subtractPorts(ALL_PORTS, denied);
  if (isEmptyPorts(open)) return { denying };
  return { gap: `from ${source.workload} on ${formatPorts(open)}: ${kind.gap}` };
}

/**
 * A passing HIPAA-NP-033 finding for one namespace when the kind's guardrail covers all of its PHI
 * workloads, undefined otherwise (the Admin-tier reading then decides).
 */
export function kindGuardrail(
  context: AuditContext,
  kind: GuardrailKind,
  namespace: string,
  pods: readonly { workload: Workload; pod: Pod }[],
  sources: readonly Pod[],
): FindingDraft | undefined {
  const denying = new Map<string, Denying>();
  for (const { pod } of pods) {
    if (context.engine.classOf(pod).hostNetwork) return undefined;
    for (const guard of [
      kind.futureSource(pod),
      ...sources.map((s) => existingSourceGuard(context, kind, pod, s)),
    ]) {
      if ('gap' in guard) return undefined;
      for (const entry of guard.denying) denying.set(entry.rule, entry);
    }
  }
  const rules = [...denying.values()];
  const ids = [...new Set(pods.map((p) => p.workload.id))].join(', ');
  return {
    status: 'pass',
    objects: [namespace],
    evidence: { rules: rules.map(({ rule, at }) => ({ rule, at })), notes: [kind.note(namespace, ids)] },
    location: locationOf(rules[0]?.provenance ?? (pods[0] as { workload: Workload }).workload.provenance),
  };
}
