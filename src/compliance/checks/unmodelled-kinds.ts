import type { Snapshot } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { Check, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';

// HIPAA-NP-002 (a NetworkPolicy-enforcing CNI) is cniPresent, in cni.ts with the CNI detection.

// HIPAA-NP-003: policy kinds the engine does not model

/**
 * API group → policy kinds that allow or deny traffic besides the kinds phiwall evaluates: networking.k8s.io
 * NetworkPolicies and the policy.networking.k8s.io AdminNetworkPolicy, BaselineAdminNetworkPolicy and
 * ClusterNetworkPolicy (modelled as the Admin and Baseline tiers; that group has no other kind), and
 * Cilium's CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (host policies are reported below), and
 * Calico's NetworkPolicy and GlobalNetworkPolicy (staged policies and host endpoints are warned about).
 */
const UNMODELLED_POLICY_KINDS: Readonly<Record<string, { kinds: readonly string[]; effect: string }>> = {
  'crd.antrea.io': {
    kinds: ['NetworkPolicy', 'ClusterNetworkPolicy'],
    effect: 'Antrea-native policies are tiered, can Drop or Allow, and take precedence over NetworkPolicies',
  },
  'security.antrea.tanzu.vmware.com': {
    kinds: ['NetworkPolicy', 'ClusterNetworkPolicy'],
    effect: 'Antrea-native policies are tiered, can Drop or Allow, and take precedence over NetworkPolicies',
  },
  'k8s.ovn.org': { kinds: ['EgressFirewall'], effect: 'an OVN-Kubernetes EgressFirewall restricts egress' },
  'network.openshift.io': {
    kinds: ['EgressNetworkPolicy'],
    effect: 'an OpenShift SDN EgressNetworkPolicy restricts egress',
  },
  'networking.gke.io': {
    kinds: ['FQDNNetworkPolicy'],
    effect: 'a GKE FQDNNetworkPolicy allows egress to domain names',
  },
  'k8s.cni.cncf.io': {
    kinds: ['MultiNetworkPolicy'],
    effect: 'a MultiNetworkPolicy governs secondary (Multus) networks',
  },
};

export const unmodelledKinds: Check = {
  id: 'HIPAA-NP-003',
  run(context) {
    const drafts: FindingDraft[] = [];
    for (const [label, count] of context.snapshot.skippedKinds) {
      const parsed = /^(.+) \((.+)\)$/.exec(label);
      if (!parsed) continue;
      const [, kind, apiVersion] = parsed as unknown as [string, string, string];
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const family = UNMODELLED_POLICY_KINDS[group];
      if (!family?.kinds.includes(kind)) continue;
      drafts.push({
        status: 'fail',
        objects: [label],
        evidence: {
          notes: [
            `${label} ×${count} in the input: ${family.effect}; phiwall evaluates NetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies, ClusterNetworkPolicies, CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies and Calico's policies only, so the reachability it reports may be incomplete`,
          ],
        },
        remediation: {
          text: `Review the ${kind} objects by hand for flows into and out of PHI (or express them as NetworkPolicies), and record the review; the other checks do not see their effect.`,
        },
      });
    }
    const hostPolicies = context.snapshot.ciliumHostPolicies ?? [];
    if (hostPolicies.length > 0) {
      const first = hostPolicies[0] as (typeof hostPolicies)[number];
      drafts.push({
        status: 'fail',
        objects: hostPolicies.map((p) => p.id),
        evidence: {
          rules: hostPolicies.map((p) => ({ rule: p.id, at: where(p.provenance) })),
          notes: [
            `Cilium host policies (nodeSelector) ×${hostPolicies.length} in the input: they police the nodes, and so hostNetwork pods and traffic to and from the nodes; phiwall analyses CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies for pods only, so what it reports for nodes and hostNetwork pods may be wider than what is enforced`,
          ],
        },
        remediation: {
          text: 'Review the host policies by hand for traffic between nodes or hostNetwork pods and PHI workloads, and record the review; the other checks do not see their effect.',
        },
        location: locationOf(first.provenance),
      });
    }
    const analysed = analysedKinds(context.snapshot);
    if (analysed.length > 0)
      drafts.push({
        status: 'pass',
        objects: analysed,
        evidence: {
          notes: [
            `analysed beside NetworkPolicies: ${analysed.join(', ')}; their allows, denies and tiers are in every other check's answer`,
          ],
        },
      });
    return drafts;
  },
};

/**
 * The Cilium and Calico kinds in the input that phiwall evaluates, counted per object (a policy with
 * several `specs` is one object): `CiliumNetworkPolicy ×3`. Calico's namespaced NetworkPolicy is
 * named `Calico NetworkPolicy`, apart from Kubernetes'.
 */
function analysedKinds(snapshot: Snapshot): string[] {
  const ids = new Map<string, Set<string>>();
  const add = (kind: string, id: string) => ids.set(kind, (ids.get(kind) ?? new Set()).add(id));
  for (const p of snapshot.ciliumPolicies) add(p.kind, `${p.namespace}/${p.name}`);
  for (const g of snapshot.ciliumCidrGroups) add('CiliumCIDRGroup', g.name);
  const calico = snapshot.calico;
  for (const p of calico?.policies ?? []) add(`Calico ${p.kind}`, `${p.namespace ?? ''}/${p.name}`);
  for (const t of calico?.tiers ?? []) if (t.provenance) add('Calico Tier', t.name);
  for (const n of calico?.networkSets ?? [])
    add(
      n.namespace === undefined ? 'Calico GlobalNetworkSet' : 'Calico NetworkSet',
      `${n.namespace}/${n.name}`,
    );
  for (const p of calico?.profiles ?? []) add('Calico Profile', p.name);
  return [...ids].map(([kind, set]) => `${kind} ×${set.size}`);
}
