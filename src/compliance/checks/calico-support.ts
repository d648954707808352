/**
 * What Calico's tiers mean for the structural checks: a namespace denied by default (007, 008) and a
 * guardrail (033). HIPAA-NP-033 for Calico: a tier evaluated before the `default` tier (where namespace owners' policies
 * live, Kubernetes NetworkPolicies included) that denies ingress to the PHI workloads of a namespace
 * from every non-PHI source is a guardrail namespace owners cannot undo, as an Admin-tier policy is.
 * Existing sources are checked with the engine's tier walk (every port denied by a rule or the end of
 * such a tier); pods of namespaces created later by walking those tiers in order: a Deny for them on
 * every port must come before any rule that may allow them or pass them on.
 */
import { calicoPolicyApplies, entityMatches } from '../../engine/calico/match.ts';
import { tiersInOrder } from '../../engine/calico/tiers.ts';
import {
  type CalicoPolicy,
  type CalicoRule,
  calicoPolicyId,
  compareOrder,
  DEFAULT_TIER_ORDER,
} from '../../model/calico.ts';
import type { Direction, Pod, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, FindingDraft } from '../types.ts';
import { FUTURE_POD, futurePod, type Guard, kindGuardrail } from './util-guardrail.ts';

/** The Calico tiers before the default tier, as the engine names them in its explanations. */
function guardTiers(context: AuditContext) {
  const calico = context.snapshot.calico;
  if (!calico) return [];
  return tiersInOrder(calico).filter(
    (t) => (t.order ?? Number.POSITIVE_INFINITY) < DEFAULT_TIER_ORDER && !t.name.startsWith('kube-'),
  );
}

/** Whether a rule matches every connection: no protocol, port, ICMP or family condition. */
function onEveryPort(rule: CalicoRule): boolean {
  return (
    rule.protocol === undefined &&
    rule.notProtocol === undefined &&
    rule.ipVersion === undefined &&
    !rule.destination.ports &&
    !rule.destination.notPorts
  );
}

/** The guard tiers walked for a pod of a namespace created later as the source of ingress to `subject`. */
function futureSourceGuard(context: AuditContext, subject: Pod): Guard {
  const { snapshot } = context;
  const calico = snapshot.calico;
  if (!calico) return { gap: 'no Calico tiers' };
  const what = 'pods of a namespace created later';
  for (const tier of guardTiers(context)) {
    const policies = calico.policies
      .filter(
        (p) =>
          p.tier === tier.name &&
          calicoPolicyApplies(snapshot, p, subject, 'ingress', context.engine.options),
      )
      .sort(compareOrder);
    if (policies.length === 0) continue;
    for (const policy of policies) {
      const scope = policy.namespace !== undefined ? { namespace: policy.namespace } : {};
      for (const rule of policy.ingress) {
        if (rule.action === 'Log') continue;
        const { ports: _ports, notPorts: _notPorts, ...destination } = rule.destination;
        const matches =
          entityMatches(snapshot, rule.source, { pod: FUTURE_POD }, scope, context.engine.options) &&
          entityMatches(snapshot, destination, { pod: subject }, scope, context.engine.options);
        if (!matches) continue;
        const id = `${calicoPolicyId(policy)} ingress[${rule.index}]`;
        if (rule.action === 'Allow') return { gap: `${id} (${where(rule.provenance)}) may allow ${what}` };
        if (rule.action === 'Pass')
          return {
            gap: `${id} (${where(rule.provenance)}) may pass ${what} on towards the namespace policies`,
          };
        if (onEveryPort(rule))
          return {
            denying: [{ rule: `${id} (Deny)`, at: where(rule.provenance), provenance: rule.provenance }],
          };
      }
    }
    if (tier.defaultAction === 'Deny') {
      const first = policies[0] as (typeof policies)[number];
      return {
        denying: [
          {
            rule: `tier ${tier.name} ends in Deny (${calicoPolicyId(first)} applies)`,
            at: where(first.provenance),
            provenance: first.provenance,
          },
        ],
      };
    }
  }
  return { gap: `no Calico tier before the default tier denies ${what}` };
}

/**
 * A passing HIPAA-NP-033 finding for one namespace when Calico tiers guard all of its PHI workloads,
 * undefined otherwise (the Admin-tier reading then decides).
 */
export function calicoGuardrail(
  context: AuditContext,
  namespace: string,
  pods: readonly { workload: Workload; pod: Pod }[],
  sources: readonly Pod[],
): FindingDraft | undefined {
  if (!context.snapshot.calico || guardTiers(context).length === 0) return undefined;
  const names = new Set(guardTiers(context).map((t) => `Calico tier ${t.name}`));
  return kindGuardrail(
    context,
    {
      guards: (step) => names.has(step.tier),
      gap: 'not denied by a tier before the default tier',
      futureSource: (subject) => futureSourceGuard(context, subject),
      note: (ns, ids) =>
        `Calico tiers evaluated before the default tier deny ingress to every PHI workload of ${ns} (${ids}) from every non-PHI source, pods of namespaces created later included; no policy of the default tier (namespace policies, Kubernetes NetworkPolicies) can override them`,
    },
    namespace,
    pods,
    sources,
  );
}

/**
 * Whether Calico policies deny by default, in one direction, for every pod of a namespace, present or
 * future: walking the tiers for a pod created there later (no labels), the first tier that applies to
 * it without a Pass rule ends in Deny, and the engine finds every pod there now isolated. Undefined
 * when the input has no Calico policies.
 */
export function calicoNamespaceDenyByDefault(
  context: AuditContext,
  namespace: string,
  direction: Direction,
): { by: CalicoPolicy[] } | { reasons: string[] } | undefined {
  const { snapshot } = context;
  const calico = snapshot.calico;
  if (!calico || calico.policies.length === 0) return undefined;
  const future = futurePod(namespace);
  let closedBy: CalicoPolicy[] | undefined;
  for (const tier of tiersInOrder(calico)) {
    const policies = calico.policies.filter(
      (p) =>
        p.tier === tier.name && calicoPolicyApplies(snapshot, p, future, direction, context.engine.options),
    );
    if (policies.length === 0) continue;
    if (policies.some((p) => p[direction].some((r) => r.action === 'Pass'))) continue;
    if (tier.defaultAction === 'Deny') {
      closedBy = policies;
      break;
    }
  }
  if (!closedBy)
    return {
      reasons: [`no Calico tier that applies to every pod of ${namespace} denies ${direction} by default`],
    };
  const open = context.snapshot.workloads
    .filter((w) => w.namespace === namespace)
    .filter((w) =>
      w.pods.some((pod) => !context.engine.closingLevel(context.engine.classOf(pod), direction)),
    );
  if (open.length > 0)
    return { reasons: open.slice(0, 5).map((w) => `${w.id} is not ${direction}-isolated by Calico's tiers`) };
  return { by: closedBy };
}
