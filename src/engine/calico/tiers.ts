import {
  type CalicoProfile,
  type CalicoResources,
  type CalicoRule,
  type CalicoTier,
  compareOrder,
  DEFAULT_TIER,
  KUBERNETES_POLICY_ORDER,
} from '../../model/calico.ts';
import type { Direction, Pod } from '../../model/types.ts';
import { serviceAccountOf } from './match.ts';

/**
 * Where the policy.networking.k8s.io tiers sit among Calico's tiers: Calico 3.30 evaluates
 * AdminNetworkPolicies in tier `kube-admin` (order 1,000) and BaselineAdminNetworkPolicies in
 * `kube-baseline` (order 10,000,000), both ending in Pass
 * (docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy).
 */
export const ADMIN_TIER: CalicoTier = { name: 'kube-admin', order: 1000, defaultAction: 'Pass' };
export const BASELINE_TIER: CalicoTier = { name: 'kube-baseline', order: 10_000_000, defaultAction: 'Pass' };

/** Every tier in evaluation order: the declared Calico tiers (with `default`) and the two Kubernetes ones. */
export function tiersInOrder(calico: CalicoResources): CalicoTier[] {
  return [...calico.tiers, ADMIN_TIER, BASELINE_TIER].sort(compareOrder);
}

/** Name Calico's converter gives a Kubernetes NetworkPolicy in the default tier, which breaks order ties. */
export function kubernetesPolicyName(name: string): string {
  return `knp.default.${name}`;
}

export const KUBERNETES_POLICY_PLACE = { tier: DEFAULT_TIER, order: KUBERNETES_POLICY_ORDER } as const;

/**
 * The profiles of a pod, in the order Calico applies them: its namespace's `kns.<namespace>` and its
 * service account's `ksa.<namespace>.<account>`. A profile the input does not declare is Calico's
 * generated one: the namespace profile allows everything, the service account profile has no rules.
 */
export function profilesOf(calico: CalicoResources, pod: Pod, direction: Direction): CalicoRule[][] {
  const names = [`kns.${pod.namespace}`, `ksa.${pod.namespace}.${serviceAccountOf(pod)}`];
  return names.map((name, i) => {
    const declared = calico.profiles.find((p: CalicoProfile) => p.name === name);
    if (declared) return [...declared[direction]];
    return i === 0 ? [ALLOW_ALL[direction]] : [];
  });
}

const allowAll = (direction: Direction): CalicoRule => ({
  direction,
  index: 0,
  action: 'Allow',
  source: {},
  destination: {},
  provenance: { file: '<generated namespace profile>', locate: () => ({ line: 1, column: 1 }) },
});
const ALLOW_ALL: Readonly<Record<Direction, CalicoRule>> = {
  ingress: allowAll('ingress'),
  egress: allowAll('egress'),
};
