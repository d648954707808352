import {
  emptyPeers,
  isolatingRules,
  PodIndex,
  policyId,
  ruleHygiene,
  rulePath,
  selectorText,
} from '../../analysis/policy-hygiene.ts';
import type { LabelSelector, PolicyRule } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, Evidence, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';

// HIPAA-NP-025: policies that select no workload

function namesPhiKey(context: AuditContext, selector: LabelSelector): string | undefined {
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  const phiKeys = new Set(context.config.phi.selectors.map((s) => s.key));
  return keys.find((key) => phiKeys.has(key.includes('/') ? key.slice(key.indexOf('/') + 1) : key));
}

export const policySelectsNothing: Check = {
  id: 'HIPAA-NP-025',
  run(context) {
    const pods = PodIndex.of(context);
    const drafts: FindingDraft[] = [];
    for (const policy of context.engine.currentPolicies) {
      const own = [policy.namespace];
      if (pods.anyMatch(own, policy.podSelector)) continue;
      const notes = [
        `podSelector ${selectorText(policy.podSelector)} matches no pod in namespace ${policy.namespace}`,
      ];
      if (pods.anyMatch(own, policy.podSelector, true))
        notes.push(
          'it matches only hostNetwork pods, which NetworkPolicy does not govern (--host-network node)',
        );
      const hint = pods.labelHint(policy.namespace);
      notes.push(hint ?? `the input holds no workloads in namespace ${policy.namespace}`);
      const phiKey = namesPhiKey(context, policy.podSelector);
      if (phiKey)
        notes.push(
          `the selector names the PHI label key ${phiKey}: the PHI pods it was meant for are unprotected by it`,
        );
      drafts.push({
        status: 'fail',
        severity: phiKey ? 'medium' : undefined,
        objects: [policyId(policy)],
        evidence: {
          rules: [{ rule: `${policyId(policy)}#spec.podSelector`, at: where(policy.provenance) }],
          notes,
        },
        location: locationOf(policy.provenance),
        remediation: {
          text: `Correct spec.podSelector of ${policyId(policy)} to the labels of the pods it is meant to protect, or delete the policy if those pods are gone.`,
        },
      });
    }
    return drafts;
  },
};

// HIPAA-NP-026: rule peers that select nothing

export const peerSelectsNothing: Check = {
  id: 'HIPAA-NP-026',
  run(context) {
    const pods = PodIndex.of(context);
    const drafts: FindingDraft[] = [];
    for (const policy of context.engine.currentPolicies) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      let first: PolicyRule | undefined;
      for (const rule of isolatingRules(policy)) {
        for (const { index, why } of emptyPeers(pods, policy, rule)) {
          first ??= rule;
          rules.push({ rule: rulePath(policy, rule, index), at: where(rule.provenance) });
          notes.push(`${rulePath(policy, rule, index)}: ${why}`);
        }
      }
      if (!first) continue;
      drafts.push({
        status: 'fail',
        objects: [policyId(policy)],
        evidence: { rules, notes },
        location: locationOf(first.provenance),
        remediation: {
          text: 'Correct the selector (often a misspelt label key or value) so the peer matches the intended pods; a peer that selects nothing silently denies the flow it was written for.',
        },
      });
    }
    return drafts;
  },
};

// HIPAA-NP-027: redundant rules

export const redundantRules: Check = {
  id: 'HIPAA-NP-027',
  run(context) {
    return [...ruleHygiene(context)].map((found): FindingDraft => {
      const { policy, rule, direction } = found;
      const notes =
        found.kind === 'ignored'
          ? [
              `${rulePath(policy, rule)} is ignored: the policy's policyTypes do not include ${direction === 'ingress' ? 'Ingress' : 'Egress'}`,
            ]
          : [
              `removing ${rulePath(policy, rule)} leaves what the ${found.pods} pod(s) ${policyId(policy)} selects allow (${direction}, from pods and external addresses) unchanged`,
              ...(found.covering.length > 0
                ? [`what it allows is also allowed by ${found.covering.map((c) => c.rule).join(', ')}`]
                : []),
            ];
      const covering = found.kind === 'redundant' ? found.covering : [];
      return {
        status: 'fail',
        objects: [policyId(policy)],
        evidence: {
          rules: [{ rule: rulePath(policy, rule), at: where(rule.provenance) }, ...covering],
          notes,
        },
        location: locationOf(rule.provenance),
        remediation: {
          text: `Delete ${rulePath(policy, rule)}: it allows nothing the other rules do not, and a reviewer reading it may believe it matters.`,
        },
      };
    });
  },
};
