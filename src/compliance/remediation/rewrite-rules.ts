import { parseCidr, toCidrs } from '../../engine/addresses.ts';
import { type IntervalSet, intersect, subtract, union } from '../../engine/intervals.ts';
import type { PolicyPeer, PolicyRule } from '../../model/types.ts';
import { addressSet } from '../checks/support.ts';
import { isNetworkPolicyRule, type Responsible, responsibleRef } from '../checks/util-attribution.ts';
import type { Remediation } from '../types.ts';
import { rewrittenPolicy } from './manifests.ts';

/** A remediation sentence for the Admin/Baseline-tier rules among the responsible ones, if any. */
export function tierRemediation(responsible: readonly Responsible[], alone = false): string {
  const tier = responsible.filter((r) => r.kind === 'tier');
  if (tier.length === 0) return '';
  const refs = (tierName: 'Admin' | 'Baseline') => [
    ...new Set(tier.filter((r) => r.policy.tier === tierName).map(responsibleRef)),
  ];
  const admin = refs('Admin');
  const baseline = refs('Baseline');
  const parts: string[] = [];
  if (admin.length > 0)
    parts.push(
      alone
        ? `The Admin-tier rules that allow it (${admin.join(', ')}) must be narrowed by a cluster administrator: no NetworkPolicy can override an Admin-tier Allow or what a Pass hands on.`
        : `Also narrow the Admin-tier rules (${admin.join(', ')}), a cluster administrator's task: no NetworkPolicy can override an Admin-tier Allow or what a Pass hands on.`,
    );
  if (baseline.length > 0)
    parts.push(
      `Baseline-tier rules allow it too (${baseline.join(', ')}): narrow them, or isolate the workload with a NetworkPolicy, which takes precedence over the Baseline tier.`,
    );
  return ` ${parts.join(' ')}`;
}

/**
 * A remediation with the Admin/Baseline-tier rules among the responsible ones named (NetworkPolicies
 * cannot undo an Admin-tier Allow), and without a manifest when no NetworkPolicy rule was to be rewritten.
 */
export function withTiers(responsible: readonly Responsible[], remediation: Remediation): Remediation {
  const yaml = remediation.yaml === '' ? undefined : remediation.yaml;
  const alone = remediation.yaml === '' && responsible.some((r) => r.kind === 'tier');
  const text = alone
    ? tierRemediation(responsible, true).trim()
    : `${remediation.text}${tierRemediation(responsible)}`;
  return yaml === undefined ? { text } : { text, yaml };
}

/**
 * Narrows a rule's external addresses to `keep` minus `holes`, leaving its pod peers alone. A rule
 * without peers becomes "every pod, plus the kept addresses". Each ipBlock becomes the CIDRs of `keep`
 * inside it, with the holes (and its own excepts) as excepts, so the result stays short and readable;
 * a block left with nothing is dropped, and so is a rule left without peers.
 */
export function keepAddresses(
  rule: PolicyRule,
  keep: IntervalSet<bigint>,
  holes: IntervalSet<bigint>,
): PolicyRule | undefined {
  const everything: PolicyPeer[] = [
    { kind: 'pods', namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
    { kind: 'ipBlock', ipBlock: { cidr: '0.0.0.0/0', except: [] } },
    { kind: 'ipBlock', ipBlock: { cidr: '::/0', except: [] } },
  ];
  const peers = (rule.peers ?? everything).flatMap((peer): PolicyPeer[] => {
    if (peer.kind !== 'ipBlock') return [peer];
    const cidr = parseCidr(peer.ipBlock.cidr);
    if (!cidr) return [peer];
    const excluded = union(holes, addressSet(peer.ipBlock.except));
    const whole: IntervalSet<bigint> = [[cidr.lo, cidr.hi]];
    // The original block stays as written when all of it is kept: only its excepts change.
    const blocks = subtract(whole, keep).length === 0 ? [peer.ipBlock.cidr] : toCidrs(intersect(whole, keep));
    return blocks.flatMap((block): PolicyPeer[] => {
      const range = addressSet([block]);
      const except = intersect(range, excluded);
      if (subtract(range, except).length === 0) return [];
      return [{ kind: 'ipBlock', ipBlock: { cidr: block, except: toCidrs(except) } }];
    });
  });
  // An empty peer list would mean "every peer": the opposite of what is wanted.
  return peers.length ? { ...rule, peers } : undefined;
}

/** NetworkPolicies rewritten; Admin/Baseline-tier rules among `responsible` are left to `tierRemediation`. */
export function rewriteRules(
  responsible: readonly Responsible[],
  edit: (rule: PolicyRule) => PolicyRule | undefined,
): string {
  const own = responsible.filter(isNetworkPolicyRule);
  const targets = new Set(own.map((r) => r.rule));
  const policies = [...new Set(own.map((r) => r.policy))];
  return policies
    .map((policy) => rewrittenPolicy(policy, (rule) => (targets.has(rule) ? edit(rule) : rule)))
    .join('---\n');
}
