import { CalicoAdapter } from '../engine/calico/adapter.ts';
import { calicoPolicyApplies } from '../engine/calico/match.ts';
import { tiersInOrder } from '../engine/calico/tiers.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { subtract } from '../engine/intervals.ts';
import type { KindRule } from '../engine/kind-rules.ts';
import { isEmptyPorts, subtractPorts } from '../engine/ports.ts';
import { selectorMatches } from '../engine/selectors.ts';
import {
  type CalicoPolicy,
  type CalicoResources,
  type CalicoRule,
  calicoPolicyId,
  compareOrder,
  DEFAULT_TIER,
} from '../model/calico.ts';
import type { Direction, Pod, Snapshot } from '../model/types.ts';
import { where } from '../report/explain.ts';
import type { LintFinding } from './policy-hygiene.ts';

interface Compiled {
  policy: CalicoPolicy;
  rule: CalicoRule;
  parts: KindRule[];
  subjects: Set<number>;
}

/** The lint rules about Calico policies: PW-LINT-020 to PW-LINT-023. */
export function lintCalicoPolicies(snapshot: Snapshot, engine: Engine): LintFinding[] {
  const calico = snapshot.calico;
  if (!calico) return [];
  let id = 0;
  const adapter = new CalicoAdapter(snapshot, calico, engine.classes, engine.options, () => id++);
  adapter.compile();
  const byRule = new Map<CalicoRule, Compiled>();
  const policyOf = new Map<CalicoRule, CalicoPolicy>();
  for (const policy of calico.policies)
    for (const rule of [...policy.ingress, ...policy.egress]) policyOf.set(rule, policy);
  for (const [part, source] of adapter.sources) {
    const policy = policyOf.get(source.rule);
    if (!policy) continue;
    const entry = byRule.get(source.rule) ?? {
      policy,
      rule: source.rule,
      parts: [],
      subjects: new Set<number>(),
    };
    entry.parts.push(part);
    for (const s of source.subjects) entry.subjects.add(s);
    byRule.set(source.rule, entry);
  }
  const rep = (c: PodClass) => c.pods[0] as Pod;
  const selects = (policy: CalicoPolicy, direction: Direction) =>
    engine.classes.filter(
      (c) => !c.hostNetwork && calicoPolicyApplies(snapshot, policy, rep(c), direction, engine.options),
    );
  const findings: LintFinding[] = [];
  const path = (policy: CalicoPolicy, rule?: CalicoRule) =>
    `${calicoPolicyId(policy)}#spec${rule ? `.${rule.direction}[${rule.index}]` : '.selector'}`;
  for (const policy of calico.policies) {
    const selected = [...selects(policy, 'ingress'), ...selects(policy, 'egress')];
    if (selected.length === 0) {
      // PW-LINT-020
      findings.push({
        rule: 'PW-LINT-020',
        at: policy.provenance,
        policy: calicoPolicyId(policy),
        path: path(policy),
        message: `${calicoPolicyId(policy)} applies to no workload: its selector ${JSON.stringify(policy.selector.source || 'all()')}${policy.namespaceSelector ? `, namespaceSelector ${JSON.stringify(policy.namespaceSelector.source)}` : ''}${policy.serviceAccountSelector ? `, serviceAccountSelector ${JSON.stringify(policy.serviceAccountSelector.source)}` : ''} and types match no pod`,
        fix: `Correct the selectors of ${calicoPolicyId(policy)} to the pods it is meant to govern, or delete it.`,
      });
      continue;
    }
    for (const rule of [...policy.ingress, ...policy.egress]) {
      if (rule.action === 'Log' || !policy.types[rule.direction]) continue;
      const compiled = byRule.get(rule);
      if (!compiled || compiled.parts.every((p) => p.classes.size === 0 && p.addresses.length === 0)) {
        // PW-LINT-021
        findings.push({
          rule: 'PW-LINT-021',
          at: rule.provenance,
          policy: calicoPolicyId(policy),
          path: path(policy, rule),
          message: `${calicoPolicyId(policy)} ${rule.direction}[${rule.index}] (${rule.action}) matches no connection: ${neverReason(rule)}`,
          fix: 'Correct the rule’s selectors, nets, protocol or ports to the traffic it is meant to match, or delete it.',
        });
      }
    }
  }
  findings.push(...passesToNoTier(snapshot, calico, engine, byRule), ...shadowed(calico, byRule));
  return findings;
}

function neverReason(rule: CalicoRule): string {
  if (rule.source.ports || rule.source.notPorts)
    return 'it matches on source ports, which phiwall does not model';
  if (
    rule.protocol !== undefined &&
    !['TCP', 'UDP', 'SCTP', 'ICMP', 'ICMPv6'].includes(String(rule.protocol))
  ) {
    return `protocol ${rule.protocol} is not one phiwall analyses`;
  }
  const [peer, own] = rule.direction === 'ingress' ? ['source', 'destination'] : ['destination', 'source'];
  return `its ${peer} matches no pod, network set or address in the input, or its ${own} matches none of the pods the policy selects`;
}

// PW-LINT-022: a Pass whose subjects no later tier applies to, so the connection goes to the profiles.
function passesToNoTier(
  snapshot: Snapshot,
  calico: CalicoResources,
  engine: Engine,
  byRule: Map<CalicoRule, Compiled>,
): LintFinding[] {
  const tiers = tiersInOrder(calico);
  const position = new Map(tiers.map((t, i) => [t.name, i]));
  const findings: LintFinding[] = [];
  for (const { policy, rule, subjects } of byRule.values()) {
    if (rule.action !== 'Pass' || subjects.size === 0) continue;
    const after = position.get(policy.tier) ?? 0;
    const later = tiers.slice(after + 1);
    const decidedLater = [...subjects].some((id) => {
      const pod = (engine.classes[id] as PodClass).pods[0] as Pod;
      return later.some((tier) =>
        tier.name === DEFAULT_TIER
          ? snapshot.policies.some(
              (p) =>
                p.namespace === pod.namespace &&
                p.isolates[rule.direction] &&
                selectorMatches(p.podSelector, pod.labels),
            ) ||
            calico.policies.some(
              (p) =>
                p.tier === DEFAULT_TIER &&
                calicoPolicyApplies(snapshot, p, pod, rule.direction, engine.options),
            )
          : calico.policies.some(
              (p) =>
                p.tier === tier.name && calicoPolicyApplies(snapshot, p, pod, rule.direction, engine.options),
            ) ||
            (tier.name === 'kube-baseline' && snapshot.clusterPolicies.some((p) => p.tier === 'Baseline')),
      );
    });
    if (decidedLater) continue;
    findings.push({
      rule: 'PW-LINT-022',
      at: rule.provenance,
      policy: calicoPolicyId(policy),
      path: `${calicoPolicyId(policy)}#spec.${rule.direction}[${rule.index}]`,
      message: `${calicoPolicyId(policy)} ${rule.direction}[${rule.index}] passes to the next tier, but no later tier applies to the pods it governs: the connections go to their profiles (by default, allowed)`,
      fix: 'Add a policy in a later tier that decides these connections, or say Allow or Deny here.',
    });
  }
  return findings;
}

// PW-LINT-023: a rule that an earlier rule of the same tier and order covers for every subject.
function shadowed(calico: CalicoResources, byRule: Map<CalicoRule, Compiled>): LintFinding[] {
  const findings: LintFinding[] = [];
  const groups = new Map<string, CalicoPolicy[]>();
  for (const policy of calico.policies) {
    const key = `${policy.tier}|${policy.order ?? 'unset'}`;
    groups.set(key, [...(groups.get(key) ?? []), policy]);
  }
  for (const group of groups.values()) {
    const rules = group
      .sort(compareOrder)
      .flatMap((p) => p.ingress.concat(p.egress).map((r) => byRule.get(r)))
      .filter((c): c is Compiled => c !== undefined && c.rule.action !== 'Log');
    rules.forEach((later, j) => {
      const earlier = rules
        .slice(0, j)
        .find((e) => e.rule.direction === later.rule.direction && covers(e, later));
      if (!earlier) return;
      const id = (c: Compiled) => `${calicoPolicyId(c.policy)} ${c.rule.direction}[${c.rule.index}]`;
      findings.push({
        rule: 'PW-LINT-023',
        at: later.rule.provenance,
        policy: calicoPolicyId(later.policy),
        path: `${calicoPolicyId(later.policy)}#spec.${later.rule.direction}[${later.rule.index}]`,
        message: `${id(later)} (${later.rule.action}) never decides anything: ${id(earlier)} (${earlier.rule.action}, ${where(earlier.rule.provenance)}) comes first and matches everything it does`,
        fix: `Delete ${id(later)}, or narrow or reorder ${id(earlier)} if this rule was meant to decide first.`,
      });
    });
  }
  return findings;
}

/**
 * Whether `earlier` matches everything `later` does: its one part (a rule split by IP family is left
 * alone) holds every subject, peer, address and port of every part of `later`.
 */
function covers(earlier: Compiled, later: Compiled): boolean {
  const [big] = earlier.parts;
  if (earlier.parts.length !== 1 || !big?.numericPorts || later.parts.length === 0) return false;
  const bigPorts = big.numericPorts;
  return (
    [...later.subjects].every((s) => earlier.subjects.has(s)) &&
    later.parts.every(
      (part) =>
        part.numericPorts !== undefined &&
        [...part.classes].every((c) => big.classes.has(c)) &&
        subtract(part.addresses, big.addresses).length === 0 &&
        isEmptyPorts(subtractPorts(part.numericPorts, bigPorts)),
    )
  );
}
