import { calicoPolicyId } from '../../model/calico.ts';
import { ciliumPolicyId } from '../../model/cilium.ts';
import type { Direction, Provenance } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import { defaultDenyYaml, policyYaml } from '../remediation/manifests.ts';
import { uniquePolicyName } from '../remediation/workload-policies.ts';
import type { AuditContext, Check, FindingDraft } from '../types.ts';
import { calicoNamespaceDenyByDefault } from './calico-support.ts';
import { ciliumNamespaceDenyByDefault } from './cilium-support.ts';
import { phiNamespaces } from './flow-logging.ts';
import { deniesAll } from './isolation.ts';
import { locationOf } from './support.ts';
import {
  namespaceDenyByDefault,
  type TierRule,
  tierRuleEvidence,
  tierRuleNote,
  uniqueRules,
} from './tier-support.ts';
import { policiesIn } from './util-scope.ts';

/** Calico's tiers or Cilium's policies denying by default for every pod of a namespace, present or future. */
function kindDenyByDefault(
  context: AuditContext,
  namespace: string,
  direction: Direction,
): { who: string; by: { id: string; provenance: Provenance }[] } | undefined {
  const calico = calicoNamespaceDenyByDefault(context, namespace, direction);
  if (calico && 'by' in calico)
    return {
      who: "Calico's tiers",
      by: calico.by.map((p) => ({ id: calicoPolicyId(p), provenance: p.provenance })),
    };
  const cilium = ciliumNamespaceDenyByDefault(context, namespace, direction);
  if (cilium && 'by' in cilium)
    return {
      who: 'Cilium policies',
      by: cilium.by.map((p) => ({ id: ciliumPolicyId(p), provenance: p.provenance })),
    };
  return undefined;
}

/**
 * 007: a NetworkPolicy with podSelector {} and no rules, per direction; or its Admin/Baseline-tier
 * equivalent (tier-support.ts `namespaceDenyByDefault`): policies whose subject is every pod of the
 * namespace deny every peer by default; or Calico's or Cilium's (`kindDenyByDefault`). A namespace that relies on the tier passes with the rules named.
 */
export const check007: Check = {
  id: 'HIPAA-NP-007',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const namespace of phiNamespaces(context)) {
      const policies = policiesIn(context, namespace);
      const ingress = policies.find((p) => deniesAll(p, 'ingress'));
      const egress = policies.find((p) => deniesAll(p, 'egress'));
      if (ingress && egress) continue;
      const notes: string[] = [];
      const tierRules: TierRule[] = [];
      const kindRules: { rule: string; at: string }[] = [];
      let kindAnchor: Provenance | undefined;
      let satisfied = true;
      for (const [direction, found] of [
        ['ingress', ingress],
        ['egress', egress],
      ] as const) {
        if (found) {
          notes.push(
            `${direction} denied by default by ${namespace}/${found.name} (${where(found.provenance)})`,
          );
          continue;
        }
        const byKind = kindDenyByDefault(context, namespace, direction);
        if (byKind) {
          kindRules.push(...byKind.by.map((p) => ({ rule: p.id, at: where(p.provenance) })));
          kindAnchor ??= byKind.by[0]?.provenance;
          notes.push(
            `${direction} denied by default by ${byKind.who}, for every pod of ${namespace}: ${byKind.by.map((p) => `${p.id} (${where(p.provenance)})`).join(', ')}`,
          );
          continue;
        }
        const tier = namespaceDenyByDefault(context, namespace, direction);
        if (tier && 'closedBy' in tier) {
          tierRules.push(...tier.closedBy);
          notes.push(
            `${direction} denied by default by the Admin/Baseline tier, for every pod of ${namespace}: ${tier.closedBy.map(tierRuleNote).join(', ')}`,
          );
          continue;
        }
        satisfied = false;
        notes.push(
          tier
            ? `no policy with podSelector {} denies ${direction} by default in ${namespace}, nor does the Admin/Baseline tier: ${tier.reasons.join('; ')}`
            : `no policy with podSelector {} denies ${direction} by default in ${namespace}`,
        );
      }
      if (satisfied) {
        findings.push({
          status: 'pass',
          objects: [namespace],
          evidence: {
            rules: [
              ...uniqueRules(tierRules).map((rule) => tierRuleEvidence(rule)),
              ...new Map(kindRules.map((r) => [r.rule, r])).values(),
            ],
            notes,
          },
          location: locationOf(tierRules[0]?.rule.provenance ?? (kindAnchor as Provenance)),
        });
        continue;
      }
      notes.push(`${policies.length} NetworkPolicy(ies) in ${namespace}`);
      const anchor = ingress ?? egress ?? context.snapshot.workloads.find((w) => w.namespace === namespace);
      const name = uniquePolicyName(context, namespace, 'default-deny');
      const yaml =
        name === 'default-deny'
          ? defaultDenyYaml(namespace)
          : policyYaml(namespace, name, 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: { notes },
        remediation: {
          text: `Add a default-deny policy to ${namespace} (every pod, both directions, no rules), then allow each needed flow explicitly, including DNS egress to kube-dns.`,
          yaml,
        },
        location: anchor ? locationOf(anchor.provenance) : undefined,
      });
    }
    return findings;
  },
};

/**
 * 008: a namespace without NetworkPolicies fails, unless the Admin/Baseline tier denies by default
 * there in both directions (the usual role of a BaselineAdminNetworkPolicy), or Calico's tiers or
 * Cilium's policies do; those pass together, named.
 */
export const check008: Check = {
  id: 'HIPAA-NP-008',
  run(context) {
    const withPolicies = new Set(context.engine.currentPolicies.map((p) => p.namespace));
    const excluded = new Set(context.config.excludedNamespaces);
    const findings: FindingDraft[] = [];
    const covered: string[] = [];
    const coveringRules: TierRule[] = [];
    const kindCovered = new Map<string, { namespaces: string[]; by: Map<string, Provenance> }>();
    for (const namespace of [...context.snapshot.namespaces.keys()].sort()) {
      if (excluded.has(namespace) || withPolicies.has(namespace)) continue;
      const [ingress, egress] = (['ingress', 'egress'] as const).map((d) =>
        kindDenyByDefault(context, namespace, d),
      );
      if (ingress && egress) {
        const who = [...new Set([ingress.who, egress.who])].join(' and ');
        const entry = kindCovered.get(who) ?? {
          namespaces: [] as string[],
          by: new Map<string, Provenance>(),
        };
        kindCovered.set(who, entry);
        entry.namespaces.push(namespace);
        for (const p of [...ingress.by, ...egress.by]) entry.by.set(p.id, p.provenance);
        continue;
      }
      const tiers = (['ingress', 'egress'] as const).map((d) =>
        namespaceDenyByDefault(context, namespace, d),
      );
      if (tiers.every((t) => t && 'closedBy' in t)) {
        covered.push(namespace);
        for (const t of tiers) if (t && 'closedBy' in t) coveringRules.push(...t.closedBy);
        continue;
      }
      const workloads = context.snapshot.workloads.filter((w) => w.namespace === namespace);
      const reasons = tiers.flatMap((t) => (t && 'reasons' in t ? t.reasons : []));
      const what =
        reasons.length > 0
          ? 'are not denied by default by the Admin/Baseline tier either'
          : 'accept and send all traffic';
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: {
          notes: [
            workloads.length > 0
              ? `no NetworkPolicy in ${namespace}: its ${workloads.length} workload(s) (${workloads
                  .slice(0, 10)
                  .map((w) => w.id)
                  .join(', ')}${workloads.length > 10 ? ', …' : ''}) ${what}`
              : reasons.length > 0
                ? `no NetworkPolicy in ${namespace}, and the Admin/Baseline tier does not deny by default there`
                : `no NetworkPolicy in ${namespace}: any pod created there will accept and send all traffic`,
            ...reasons,
          ],
        },
        remediation: {
          text: `Add a default-deny policy to ${namespace}, then allow the flows its workloads need (or list it in excludedNamespaces if it is out of scope).`,
          yaml: defaultDenyYaml(namespace),
        },
        location: workloads[0] ? locationOf(workloads[0].provenance) : undefined,
      });
    }
    if (covered.length > 0) {
      const rules = uniqueRules(coveringRules);
      findings.push({
        status: 'pass',
        objects: covered,
        evidence: {
          rules: rules.map((rule) => tierRuleEvidence(rule)),
          notes: [
            `no NetworkPolicy in ${covered.join(', ')}; the Admin/Baseline tier denies both directions by default there (${rules.map(tierRuleNote).join(', ')})`,
          ],
        },
        location: locationOf((rules[0] as TierRule).rule.provenance),
      });
    }
    for (const [who, { namespaces, by }] of kindCovered) {
      const policies = [...by];
      findings.push({
        status: 'pass',
        objects: namespaces,
        evidence: {
          rules: policies.map(([id, provenance]) => ({ rule: id, at: where(provenance) })),
          notes: [
            `no Kubernetes NetworkPolicy in ${namespaces.join(', ')}; ${who} deny both directions by default for every pod there (${policies.map(([id]) => id).join(', ')})`,
          ],
        },
        location: locationOf((policies[0] as [string, Provenance])[1]),
      });
    }
    return findings;
  },
};
