import type { CalicoRule } from '../../model/calico.ts';
import { compareOrder, DEFAULT_TIER } from '../../model/calico.ts';
import type { ClusterAction, Direction, NetworkPolicy, Pod, Snapshot } from '../../model/types.ts';
import type { Endpoint, EngineOptions } from '../endpoint.ts';
import type { Transport } from '../ports.ts';
import { calicoPolicyApplies, calicoRuleMatches, type RuleScope } from './match.ts';
import {
  ADMIN_TIER,
  BASELINE_TIER,
  KUBERNETES_POLICY_PLACE,
  kubernetesPolicyName,
  profilesOf,
  tiersInOrder,
} from './tiers.ts';

/** What the Kubernetes kinds say about one direction of a connection, for the Calico tier walk. */
export interface KubernetesVerdicts {
  /** The first matching Admin-tier (Baseline-tier) rule's action, undefined when none matches. */
  admin: () => ClusterAction | undefined;
  baseline: () => ClusterAction | undefined;
  /** The NetworkPolicies isolating the subject in this direction, and whether one admits the peer. */
  isolating: readonly NetworkPolicy[];
  admits: (policy: NetworkPolicy) => boolean;
}

type Verdict = 'Allow' | 'Deny' | 'Pass' | undefined;

/**
 * The reference answer for one direction when the input has Calico resources, straight from Calico's
 * documentation (reference/resources/tier "How policy is evaluated"): each tier with a policy that
 * applies to the endpoint, in tier order, evaluates its policies by order then name and their rules in
 * order. Allow and Deny decide, Pass goes to the next tier, Log goes on. A tier that applies but
 * decides nothing ends in its default action (Deny, or Pass). After the last tier, or when none
 * applies, the endpoint's profiles decide; when no profile rule matches, the connection is denied.
 */
export function calicoSideAllows(
  snapshot: Snapshot,
  subject: Pod,
  peer: Endpoint,
  direction: Direction,
  protocol: Transport,
  port: number,
  options: EngineOptions,
  kube: KubernetesVerdicts,
): boolean {
  const calico = snapshot.calico;
  if (!calico) throw new Error('calicoSideAllows needs Calico resources');
  const [src, dst] = direction === 'ingress' ? [peer, { pod: subject }] : [{ pod: subject }, peer];
  const walk = (rules: readonly CalicoRule[], scope: RuleScope): Verdict => {
    for (const rule of rules) {
      if (rule.action === 'Log') continue;
      if (calicoRuleMatches(snapshot, rule, scope, src, dst, protocol, port, options)) return rule.action;
    }
    return undefined;
  };
  for (const tier of tiersInOrder(calico)) {
    let verdict: Verdict;
    if (tier === ADMIN_TIER || tier === BASELINE_TIER) {
      verdict = (tier === ADMIN_TIER ? kube.admin : kube.baseline)();
      if (verdict === 'Allow') return true;
      if (verdict === 'Deny') return false;
      continue;
    }
    const entries: { order?: number; name: string; verdict: () => Verdict }[] = calico.policies
      .filter((p) => p.tier === tier.name && calicoPolicyApplies(snapshot, p, subject, direction, options))
      .map((p) => ({
        ...(p.order !== undefined && { order: p.order }),
        name: p.name,
        verdict: () => walk(p[direction], p.namespace !== undefined ? { namespace: p.namespace } : {}),
      }));
    if (tier.name === DEFAULT_TIER) {
      for (const policy of kube.isolating) {
        entries.push({
          order: KUBERNETES_POLICY_PLACE.order,
          name: kubernetesPolicyName(policy.name),
          verdict: () => (kube.admits(policy) ? 'Allow' : undefined),
        });
      }
    }
    if (entries.length === 0) continue;
    entries.sort(compareOrder);
    for (const entry of entries) {
      verdict = entry.verdict();
      if (verdict !== undefined) break;
    }
    if (verdict === 'Allow') return true;
    if (verdict === 'Deny') return false;
    if (verdict === undefined && tier.defaultAction === 'Deny') return false;
  }
  for (const rules of profilesOf(calico, subject, direction)) {
    const verdict = walk(rules, {});
    if (verdict === 'Allow') return true;
    if (verdict === 'Deny') return false;
  }
  return false;
}
