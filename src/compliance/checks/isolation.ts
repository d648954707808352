import type { KindPolicy } from '../../engine/kind-rules.ts';
import type { Direction, NetworkPolicy, Pod, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import { denyIngressYaml, dnsOnlyEgressYaml, selectorNote } from '../remediation/workload-policies.ts';
import type { Check, FindingDraft } from '../types.ts';
import { connectionsOf, locationOf, onePodPerClass, phiWorkloads } from './support.ts';
import {
  isIsolated,
  isolationOf,
  type TierRule,
  tierRuleEvidence,
  tierRuleNote,
  uniqueRules,
} from './tier-support.ts';
import { edgesOf, mergeEvidence } from './util-evidence.ts';
import { isEmptySelector } from './util-scope.ts';

/**
 * 005 and 006: a pod is isolated when a NetworkPolicy selects it for the direction (the engine's
 * answer), or when the Admin- and Baseline-tier rules that select it deny by default (every pod of every
 * namespace, and for egress every address, reaches a Deny unless allowed first: see tier-support.ts).
 * Workloads isolated by the tiers alone pass with the rules named, so the auditor sees why.
 */
export function isolationCheck(id: string, direction: Direction): Check {
  const Type = direction === 'ingress' ? 'Ingress' : 'Egress';
  return {
    id,
    run(context) {
      const findings: FindingDraft[] = [];
      const byTiersOnly: { workload: Workload; rules: TierRule[] }[] = [];
      const byKinds: { workload: Workload; policies: KindPolicy[] }[] = [];
      for (const workload of phiWorkloads(context)) {
        // Pods of one class share the answer; a workload can have thousands of pods.
        const isolationOfPod = (pod: Pod) => isolationOf(context, pod, direction);
        const open = workload.pods.filter((pod) => !isIsolated(isolationOfPod(pod)));
        if (open.length === 0) {
          const isolations = onePodPerClass(context, workload).map(isolationOfPod);
          const byTiers = isolations.flatMap((i) => (i.kind === 'tiers' ? i.rules : []));
          if (byTiers.length > 0) byTiersOnly.push({ workload, rules: byTiers });
          const byKind = isolations.flatMap((i) => (i.kind === 'kindPolicies' ? i.policies : []));
          if (byKind.length > 0) byKinds.push({ workload, policies: byKind });
          continue;
        }
        const hostNetwork = open.filter((pod) => isolationOfPod(pod).kind === 'hostNetwork');
        const tierRules = uniqueRules(
          onePodPerClass(context, workload).flatMap((pod) => {
            const isolation = isolationOfPod(pod);
            return isolation.kind === 'open' ? isolation.rules : [];
          }),
        );
        const reasons = [
          ...new Set(
            onePodPerClass(context, workload).flatMap((pod) => {
              const isolation = isolationOfPod(pod);
              return isolation.kind === 'open' ? isolation.reasons : [];
            }),
          ),
        ];
        const notes = [
          open.length === workload.pods.length
            ? tierRules.length === 0
              ? `no NetworkPolicy in ${workload.namespace} selects ${workload.id} for ${Type}: every ${direction === 'ingress' ? 'source' : 'destination'} is allowed`
              : `no NetworkPolicy in ${workload.namespace} selects ${workload.id} for ${Type}, and the Admin/Baseline-tier rules that select it do not deny by default`
            : `not ${direction}-isolated: ${open.length} of ${workload.pods.length} pods of ${workload.id} (${open
                .slice(0, 10)
                .map((p) => p.name)
                .join(', ')}${open.length > 10 ? ', …' : ''})`,
          ...reasons,
        ];
        if (hostNetwork.length > 0)
          notes.push(
            'hostNetwork pod(s): NetworkPolicy does not apply to them (see HIPAA-NP-023); a policy cannot fix this',
          );
        const connections = connectionsOf(context, workload.id, direction);
        const evidence = mergeEvidence(
          { notes, rules: tierRules.map((rule) => tierRuleEvidence(rule)) },
          edgesOf(connections),
        );
        findings.push({
          status: 'fail',
          objects: [workload.id],
          evidence,
          remediation:
            hostNetwork.length > 0
              ? { text: `Run ${workload.id} without hostNetwork, then select it with a NetworkPolicy.` }
              : {
                  text:
                    direction === 'ingress'
                      ? `Select ${workload.id} with a policy of type Ingress (below, it denies all ingress), then allow only the flows it needs. ${selectorNote(workload)}`
                      : `Select ${workload.id} with a policy of type Egress (below, it allows only cluster DNS), then allow only the destinations it needs. ${selectorNote(workload)}`,
                  yaml:
                    direction === 'ingress'
                      ? denyIngressYaml(context, workload)
                      : dnsOnlyEgressYaml(context, workload),
                },
          location: locationOf(workload.provenance),
        });
      }
      if (byTiersOnly.length > 0) findings.push(tierIsolationPass(byTiersOnly, direction));
      if (byKinds.length > 0) findings.push(kindIsolationPass(byKinds, direction));
      return findings;
    },
  };
}

/** The PHI workloads that only Admin/Baseline-tier rules isolate: one pass naming them and the rules. */
function tierIsolationPass(
  isolated: readonly { workload: Workload; rules: TierRule[] }[],
  direction: Direction,
): FindingDraft {
  const rules = uniqueRules(isolated.flatMap((i) => i.rules));
  const ids = isolated.map((i) => i.workload.id);
  const peers =
    direction === 'ingress'
      ? 'every pod of every namespace, present or future,'
      : 'every pod of every namespace, present or future, and every address';
  const listed = `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ` and ${ids.length - 10} more` : ''}`;
  const notes = [
    `no NetworkPolicy selects ${listed} for ${direction === 'ingress' ? 'Ingress' : 'Egress'}; the Admin/Baseline tier isolates ${ids.length === 1 ? 'it' : 'them'}: ${peers} is denied unless a rule allows it first (${rules.map(tierRuleNote).join(', ')})`,
  ];
  if (direction === 'ingress')
    notes.push(
      'Admin/Baseline-tier ingress rules cannot name sources outside the cluster: those are allowed by default (HIPAA-NP-009 checks them)',
    );
  return {
    status: 'pass',
    objects: ids,
    evidence: { rules: rules.map((rule) => tierRuleEvidence(rule)), notes },
    location: locationOf((rules[0] as TierRule).rule.provenance),
  };
}

/**
 * The PHI workloads that policies of other kinds (Calico, Cilium) isolate, no NetworkPolicy: one pass
 * naming them and the policies, with why each isolates where the kind says (Cilium: its rules in the
 * direction and enableDefaultDeny).
 */
function kindIsolationPass(
  isolated: readonly { workload: Workload; policies: KindPolicy[] }[],
  direction: Direction,
): FindingDraft {
  const policies = [
    ...new Map(isolated.flatMap((i) => i.policies).map((p) => [p.origin.policy, p])).values(),
  ];
  const ids = isolated.map((i) => i.workload.id);
  const listed = `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ` and ${ids.length - 10} more` : ''}`;
  const named = policies.map((p) => {
    const why = p.isolationNote ? `: ${p.isolationNote[direction]}` : '';
    return `${p.origin.policy} (${where(p.origin.provenance)}${why})`;
  });
  return {
    status: 'pass',
    objects: ids,
    evidence: {
      rules: policies.map((p) => ({ rule: p.origin.policy, at: where(p.origin.provenance) })),
      notes: [
        `no NetworkPolicy selects ${listed} for ${direction === 'ingress' ? 'Ingress' : 'Egress'}; policies of other kinds isolate ${ids.length === 1 ? 'it' : 'them'}: only what a rule allows gets ${direction === 'ingress' ? 'in' : 'out'} (${named.join(', ')})`,
      ],
    },
    location: locationOf((policies[0] as KindPolicy).origin.provenance),
  };
}

/** A policy that selects every pod of its namespace and has no rules for a direction it isolates. */
export function deniesAll(policy: NetworkPolicy, direction: Direction): boolean {
  return isEmptySelector(policy.podSelector) && policy.isolates[direction] && policy[direction].length === 0;
}
