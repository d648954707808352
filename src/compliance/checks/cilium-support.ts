/**
 * What Cilium's policies mean for the structural checks: a namespace denied by default (007, 008) and a
 * guardrail (033). A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy with rules in a direction
 * isolates the endpoints it selects in that direction unless its enableDefaultDeny says false; one whose
 * endpointSelector asks only about the namespace (its name, its labels, the cluster) selects every pod
 * there, present or future. A deny rule wins over every allow of any kind, so the deny rules of a
 * CiliumClusterwideNetworkPolicy, which namespace owners cannot edit, are a guardrail they cannot undo.
 */
import { rulePorts } from '../../engine/cilium/adapter.ts';
import { ciliumSelectorMatches, podIdentityLabels } from '../../engine/cilium/identity.ts';
import type { PodClass } from '../../engine/engine.ts';
import { isKindRule } from '../../engine/kind-rules.ts';
import { ALL_PORTS, equalPorts } from '../../engine/ports.ts';
import {
  type CiliumPolicy,
  type CiliumRule,
  type CiliumSelector,
  CLUSTER_LABEL,
  ciliumRuleId,
  NAMESPACE_LABELS_PREFIX,
  POD_NAMESPACE_LABEL,
} from '../../model/cilium.ts';
import type { Direction, Labels, Pod, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, FindingDraft } from '../types.ts';
import { UNSEEN_NAMESPACE } from './tier-support.ts';
import { futurePod, type Guard, kindGuardrail } from './util-guardrail.ts';

const CLUSTERWIDE = 'CiliumClusterwideNetworkPolicy';

/** Labels Cilium derives from the namespace and the cluster, the same for every pod of a namespace. */
function namespaceLevel(key: string): boolean {
  const name = key.slice(key.indexOf(':') + 1);
  return name === POD_NAMESPACE_LABEL || name === CLUSTER_LABEL || name.startsWith(NAMESPACE_LABELS_PREFIX);
}

/** Whether a selector takes in every pod of a namespace, present or future, whatever its own labels. */
function selectsWholeNamespace(selector: CiliumSelector, namespace: string, labels: Labels): boolean {
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  return (
    keys.every(namespaceLevel) &&
    ciliumSelectorMatches(selector, podIdentityLabels(futurePod(namespace), labels))
  );
}

function isolates(policy: CiliumPolicy, direction: Direction): boolean {
  return policy.defaultDeny[direction] && policy[direction].length > 0;
}

/**
 * Whether Cilium policies deny by default, in one direction, for every pod of a namespace, present or
 * future: a policy selecting all of them isolates that direction, and the engine finds every pod there
 * now isolated. Undefined when the input has no Cilium policies.
 */
export function ciliumNamespaceDenyByDefault(
  context: AuditContext,
  namespace: string,
  direction: Direction,
): { by: CiliumPolicy[] } | { reasons: string[] } | undefined {
  const { snapshot, engine } = context;
  if (snapshot.ciliumPolicies.length === 0) return undefined;
  const labels = snapshot.namespaces.get(namespace)?.labels ?? {};
  const by = snapshot.ciliumPolicies.filter(
    (p) => isolates(p, direction) && selectsWholeNamespace(p.endpointSelector, namespace, labels),
  );
  if (by.length === 0)
    return {
      reasons: [
        `no CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy selecting every pod of ${namespace} has ${direction} rules with enableDefaultDeny on`,
      ],
    };
  const open = snapshot.workloads
    .filter((w) => w.namespace === namespace)
    .filter((w) => w.pods.some((pod) => !engine.closingLevel(engine.classOf(pod), direction)));
  if (open.length > 0)
    return {
      reasons: open.slice(0, 5).map((w) => `${w.id} is not ${direction}-isolated by Cilium policies`),
    };
  return { by };
}

/** Whether a deny rule takes every port from every pod of a namespace created later. */
function deniesEveryFuturePod(rule: CiliumRule, subject: PodClass): boolean {
  if (!rule.deny || !equalPorts(rulePorts(rule, subject), ALL_PORTS)) return false;
  // A rule naming no peer matches every peer (it names ports: rulePorts would be all otherwise).
  if (rule.peers === undefined) return true;
  const name = UNSEEN_NAMESPACE['kubernetes.io/metadata.name'];
  return rule.peers.some(
    (peer) =>
      (peer.kind === 'entity' && (peer.entity === 'all' || peer.entity === 'cluster')) ||
      (peer.kind === 'endpoints' && selectsWholeNamespace(peer.selector, name, UNSEEN_NAMESPACE)),
  );
}

/** The CiliumClusterwideNetworkPolicy deny rules for a pod of a namespace created later, towards `subject`. */
function futureSourceGuard(context: AuditContext, subject: Pod): Guard {
  const labels = podIdentityLabels(subject, context.snapshot.namespaces.get(subject.namespace)?.labels ?? {});
  const subjectClass = context.engine.classOf(subject);
  const denying = context.snapshot.ciliumPolicies
    .filter((p) => p.kind === CLUSTERWIDE && ciliumSelectorMatches(p.endpointSelector, labels))
    .flatMap((p) =>
      p.ingress
        .filter((rule) => deniesEveryFuturePod(rule, subjectClass))
        .map((rule) => ({
          rule: `${ciliumRuleId(p, rule)} (Deny)`,
          at: where(rule.provenance),
          provenance: rule.provenance,
        })),
    );
  if (denying.length > 0) return { denying };
  return {
    gap: 'no CiliumClusterwideNetworkPolicy deny rule takes every port from every pod of a namespace created later',
  };
}

/**
 * A passing HIPAA-NP-033 finding for one namespace when the deny rules of CiliumClusterwideNetworkPolicies
 * keep every non-PHI source from all of its PHI workloads, undefined otherwise.
 */
export function ciliumGuardrail(
  context: AuditContext,
  namespace: string,
  pods: readonly { workload: Workload; pod: Pod }[],
  sources: readonly Pod[],
): FindingDraft | undefined {
  const denies = context.snapshot.ciliumPolicies.some(
    (p) => p.kind === CLUSTERWIDE && p.ingress.some((r) => r.deny),
  );
  if (!denies) return undefined;
  return kindGuardrail(
    context,
    {
      guards: (step) => isKindRule(step.rule) && step.rule.origin.kind === CLUSTERWIDE,
      gap: 'not denied by a CiliumClusterwideNetworkPolicy deny rule',
      futureSource: (subject) => futureSourceGuard(context, subject),
      note: (ns, ids) =>
        `deny rules of CiliumClusterwideNetworkPolicies deny ingress to every PHI workload of ${ns} (${ids}) from every non-PHI source, pods of namespaces created later included; a deny wins over every allow, so no namespace's own policy (CiliumNetworkPolicy or NetworkPolicy) can override them`,
    },
    namespace,
    pods,
    sources,
  );
}
