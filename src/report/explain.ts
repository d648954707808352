import {
  type Explanation,
  labelsApart,
  type PairAnswer,
  type PairGroup,
  type PortQuery,
  queryCovers,
  queryOutcome,
} from '../analysis/explain.ts';
import type { Resolved } from '../analysis/resolve.ts';
import type { SideExplanation } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { isKindRule, type KindPolicy, type KindRule } from '../engine/kind-rules.ts';
import { formatPorts, intersectPorts, isEmptyPorts, type PortSet } from '../engine/ports.ts';
import {
  actionWord,
  clusterPolicyId,
  clusterRuleId,
  type Direction,
  type NetworkPolicy,
  type Pod,
  type PolicyRule,
  type Provenance,
} from '../model/types.ts';
import { portsToJson } from './ports-json.ts';

export const PARTIAL_NOTE =
  'PARTIAL: invalid objects were left out (--skip-invalid); the answer may be incomplete';

export function where(provenance: Provenance): string {
  return `${provenance.file}:${provenance.locate().line}`;
}

export function policyName(policy: NetworkPolicy): string {
  return `${policy.namespace}/${policy.name}`;
}

export function ruleName(policy: NetworkPolicy, rule: PolicyRule): string {
  return `${policyName(policy)} ${rule.direction}[${rule.index}]`;
}

/** The workload, and the part of it the name picked (`web/api[Deployment] (web/api-5c6b9d[ReplicaSet])`). */
export function endpointName(resolved: Resolved): string {
  if (resolved.kind === 'ip') return resolved.ip;
  return resolved.part ? `${resolved.workload.id} (${resolved.part})` : resolved.workload.id;
}

/** Pods named up to five, counted above: `pods api-a, api-b (quarantine=true)`. */
function podsText(pods: readonly Pod[], all: readonly Pod[]): string {
  const names =
    pods.length > 5
      ? `${pods.length} pods`
      : `pod${pods.length > 1 ? 's' : ''} ${pods.map((p) => p.name).join(', ')}`;
  const apart = labelsApart(pods, all);
  const why = apart.length
    ? apart.join(', ')
    : 'labels alike; they differ in named ports, addresses or hostNetwork';
  return `${names} (${why})`;
}

/** An end of a group: the endpoint, and which of its pods when they are not all in the group. */
export function groupEnd(resolved: Resolved, pods: readonly Pod[] | undefined): string {
  if (resolved.kind === 'ip' || !pods || pods.length === resolved.pods.length) return endpointName(resolved);
  return `${endpointName(resolved)} ${podsText(pods, resolved.pods)}`;
}

export function queryText(e: { query?: PortQuery }): string {
  if (!e.query) return '';
  return e.query.port === undefined ? e.query.protocol : `${e.query.protocol} ${e.query.port}`;
}

export function queryHit(e: { query?: PortQuery }, ports: PortSet): string {
  return e.query?.port !== undefined && contains(ports[e.query.protocol], e.query.port) ? '  <- matches' : '';
}

type TierStep = SideExplanation['tiers'][number];

/** `Admin tier: AdminNetworkPolicy/x ingress[0] "deny" (file:12): Deny on TCP 80`. */
function tierStepText(side: SideExplanation, step: TierStep, peer: string): string {
  const ports = formatPorts(step.ports);
  if (step.rule) {
    const { policy, rule } = step.rule;
    const priority = policy.priority === undefined ? '' : `, priority ${policy.priority}`;
    const next =
      step.action !== 'Pass'
        ? ''
        : step.tier === 'Admin'
          ? ', handed to NetworkPolicy'
          : ', handed to the default';
    return `${step.tier} tier${priority}: ${clusterRuleId(policy, rule)} (${where(rule.provenance)}): ${actionWord(policy, step.action)} on ${ports}${next}`;
  }
  if (step.tier === 'Default') return `no tier decided ${ports}: allowed by default`;
  const isolation = side.isolatedBy.map((p) => `${policyName(p)} (${where(p.provenance)})`).join(', ');
  if (step.action === 'Deny')
    return `NetworkPolicy tier: isolated by ${isolation}; no rule admits ${peer} on ${ports}: denied`;
  const rules = side.admittedBy
    .filter((entry) => !isEmptyPorts(entry.ports))
    .map((entry) => `${ruleName(entry.policy, entry.rule)} (${where(entry.rule.provenance)})`);
  return `NetworkPolicy tier: ${ports} admitted by ${rules.join(', ')}`;
}

type ChainStep = SideExplanation['chain'][number];

/** Whether policies of other kinds take part in a side, so that it reads as their tier walk. */
function kindChain(side: SideExplanation): boolean {
  return side.kindSteps.length > 0 || side.kindIsolatedBy.length > 0 || side.kindNotIsolating !== undefined;
}

/**
 * One decision of the walk over every kind's tiers (Calico's and Cilium's beside the Kubernetes ones):
 * `Calico tier security: GlobalNetworkPolicy guard (tier security, order 10) ingress[0] (file:12): Deny on TCP 80`.
 */
function chainStepText(side: SideExplanation, step: ChainStep, peer: string, direction: Direction): string {
  const ports = formatPorts(step.ports);
  const next = step.action === 'Pass' ? ', passed to the next tier' : '';
  if (step.rule && isKindRule(step.rule)) {
    const { origin } = step.rule;
    const note = origin.note ? ` [${origin.note}]` : '';
    const wins = step.overrides ? `; wins over ${overridesText(side, step.overrides)}` : '';
    return `${step.tier}: ${origin.rule}${note} (${where(origin.provenance)}): ${step.action} on ${ports}${next}${wins}`;
  }
  if (step.tier === 'Default' && side.kindNotIsolating?.length) {
    const selecting = side.kindNotIsolating.map((p) => `${kindPolicyText(p, direction)}`).join(', ');
    return `no tier decided ${ports}: allowed by default (not isolated by ${selecting})`;
  }
  if (step.rule || step.tier === 'Default' || (step.tier === 'NetworkPolicy' && step.action === 'Allow'))
    return tierStepText(side, step as TierStep, peer);
  // A level that applies to the subject and decided nothing ends in Deny.
  const by = [
    ...side.isolatedBy.map((p) => `${policyName(p)} (${where(p.provenance)})`),
    ...side.kindIsolatedBy
      .filter((p) => p.tier === step.tier || step.tier === 'NetworkPolicy')
      .map((p) => kindPolicyText(p, direction)),
  ];
  return `${step.tier}: applies (${by.join(', ')}); no rule decided ${ports} for ${peer}: denied`;
}

/** `CiliumNetworkPolicy/shop/db (file:3: enableDefaultDeny.ingress: false)`: the policy and why it isolates or not. */
function kindPolicyText(policy: KindPolicy, direction: Direction): string {
  const note = policy.isolationNote ? `: ${policy.isolationNote[direction]}` : '';
  return `${policy.origin.policy} (${where(policy.origin.provenance)}${note})`;
}

/** The allows a deny overrode: rules of its tier, and NetworkPolicy rules for NetworkPolicy's grant. */
function overridesText(side: SideExplanation, overrides: NonNullable<ChainStep['overrides']>): string {
  return overrides
    .flatMap(({ rule, ports }) => {
      if (rule && isKindRule(rule))
        return [`${rule.origin.rule} (${where(rule.origin.provenance)}) on ${formatPorts(ports)}`];
      if (rule)
        return [
          `${clusterRuleId(rule.policy, rule.rule)} (${where(rule.rule.provenance)}) on ${formatPorts(ports)}`,
        ];
      return side.admittedBy
        .map((entry) => ({ entry, lost: intersectPorts(entry.ports, ports) }))
        .filter(({ lost }) => !isEmptyPorts(lost))
        .map(
          ({ entry, lost }) =>
            `${ruleName(entry.policy, entry.rule)} (${where(entry.rule.provenance)}) on ${formatPorts(lost)}`,
        );
    })
    .join(', ');
}

function sideLines(e: Explanation, direction: Direction, side: SideExplanation | undefined): string[] {
  const [subject, peer] = direction === 'egress' ? [e.from, e.to] : [e.to, e.from];
  const title = `${direction === 'egress' ? 'Egress from' : 'Ingress to'} ${endpointName(subject)}`;
  if (!side) return [`${title}: an external address; NetworkPolicy does not govern it`];
  if (side.hostNetwork)
    return [`${title}: a hostNetwork pod; NetworkPolicy does not apply to it (CNI-dependent)`];
  if (kindChain(side)) {
    return [
      `${title}: decided tier by tier, in order`,
      ...side.chain.map(
        (step) => `  ${chainStepText(side, step, endpointName(peer), direction)}${queryHit(e, step.ports)}`,
      ),
    ];
  }
  if (side.tiers.length > 0) {
    return [
      `${title}: decided tier by tier (Admin, NetworkPolicy, Baseline, default)`,
      ...side.tiers.map(
        (step) => `  ${tierStepText(side, step, endpointName(peer))}${queryHit(e, step.ports)}`,
      ),
    ];
  }
  if (side.isolatedBy.length === 0) {
    const namespace = subject.kind === 'workload' ? subject.workload.namespace : '';
    return [
      `${title}: not isolated (no NetworkPolicy in ${namespace} selects it for ${direction}), so all is allowed`,
    ];
  }
  const lines = [
    `${title}:`,
    `  isolated by ${side.isolatedBy.map((p) => `${policyName(p)} (${where(p.provenance)})`).join(', ')}`,
  ];
  if (side.admittedBy.length === 0) lines.push(`  no ${direction} rule admits ${endpointName(peer)}: denied`);
  for (const entry of side.admittedBy) {
    const hit = queryHit(e, entry.ports);
    const via = entry.byIpBlock ? ' (via an ipBlock covering the pod IP)' : '';
    const ports = isEmptyPorts(entry.ports)
      ? 'no ports (its named ports do not exist on the destination)'
      : formatPorts(entry.ports);
    lines.push(
      `  admitted by ${ruleName(entry.policy, entry.rule)} (${where(entry.rule.provenance)})${via}: ${ports}${hit}`,
    );
  }
  return lines;
}

export function renderExplanationText(e: Explanation): string {
  const lines = [`${endpointName(e.from)} -> ${endpointName(e.to)}`];
  if (e.partial) lines.push(PARTIAL_NOTE);
  if (e.groups.length === 1) {
    lines.push(...answerLines(e, e));
    return `${lines.join('\n')}\n`;
  }
  const outcome = queryOutcome(e);
  const split = [e.from, e.to].flatMap((end) =>
    end.kind === 'workload' && partOf(e, end) ? [endpointName(end)] : [],
  );
  lines.push(
    `The pods of ${split.join(' and of ')} are not all treated alike: ${e.groups.length} groups, one answer each`,
    ...(outcome === 'some' ? [`Verdict on ${queryText(e)}: ALLOWED for some pods, DENIED for others`] : []),
    ...(outcome === 'all' ? [`Verdict on ${queryText(e)}: ALLOWED for every pod`] : []),
    ...(outcome === 'none' ? [`Verdict on ${queryText(e)}: DENIED for every pod`] : []),
  );
  e.groups.forEach((group, i) => {
    lines.push(
      '',
      `Group ${i + 1} of ${e.groups.length}: ${groupEnd(e.from, group.fromPods)} -> ${groupEnd(e.to, group.toPods)}`,
      ...answerLines(e, group),
    );
  });
  return `${lines.join('\n')}\n`;
}

/** Whether the groups split this end's pods. */
function partOf(e: Explanation, end: Resolved): boolean {
  if (end.kind !== 'workload') return false;
  const side = end === e.from ? 'fromPods' : 'toPods';
  return e.groups.some((g) => (g[side]?.length ?? 0) < end.pods.length);
}

function answerLines(e: Explanation, answer: PairAnswer): string[] {
  if (answer.samePod) return ['Verdict: ALLOWED (a pod may always reach itself)'];
  const lines: string[] = [];
  const allowed = isEmptyPorts(answer.allowed) ? 'nothing' : formatPorts(answer.allowed);
  if (e.query) {
    lines.push(`Verdict on ${queryText(e)}: ${answer.verdict ? 'ALLOWED' : 'DENIED'}`, `Allowed: ${allowed}`);
  } else {
    lines.push(
      isEmptyPorts(answer.allowed)
        ? 'Verdict: DENIED on every port and protocol'
        : `Verdict: ALLOWED on ${allowed}`,
    );
  }
  lines.push('');
  lines.push(...sideLines(e, 'egress', answer.egress), ...sideLines(e, 'ingress', answer.ingress));
  return lines;
}

function ruleJson(rule: KindRule) {
  const { origin } = rule;
  return {
    policy: origin.policy,
    rule: origin.rule,
    at: where(origin.provenance),
    ...(origin.note ? { note: origin.note } : {}),
  };
}

function kindPolicyJson(policy: KindPolicy, direction: Direction) {
  return {
    kind: policy.origin.kind,
    policy: policy.origin.policy,
    at: where(policy.origin.provenance),
    ...(policy.isolationNote ? { why: policy.isolationNote[direction] } : {}),
  };
}

function sideJson(side: SideExplanation | undefined, direction: Direction) {
  if (!side) return { governed: false };
  return {
    governed: !side.hostNetwork,
    isolated: side.isolatedBy.length > 0,
    isolatedBy: side.isolatedBy.map((p) => ({ policy: policyName(p), at: where(p.provenance) })),
    admittedBy: side.admittedBy.map((entry) => ({
      policy: policyName(entry.policy),
      rule: `${entry.rule.direction}[${entry.rule.index}]`,
      at: where(entry.rule.provenance),
      ports: portsToJson(entry.ports),
      ...(entry.byIpBlock ? { dependsOn: ['ipblock-matches-pods'] } : {}),
    })),
    tiers: side.tiers.map((step) => ({
      tier: step.tier,
      action: step.rule ? actionWord(step.rule.policy, step.action) : step.action,
      ...(step.rule
        ? {
            policy: clusterPolicyId(step.rule.policy),
            rule: `${step.rule.rule.direction}[${step.rule.rule.index}]`,
            ruleName: step.rule.rule.name,
            at: where(step.rule.rule.provenance),
          }
        : {}),
      ports: portsToJson(step.ports),
    })),
    ...(kindChain(side)
      ? {
          chain: side.chain.map((step) => ({
            tier: step.tier,
            action: step.action,
            ...(step.rule && isKindRule(step.rule) ? ruleJson(step.rule) : {}),
            ports: portsToJson(step.ports),
            ...(step.overrides
              ? {
                  overrides: step.overrides.map(({ rule, ports }) => ({
                    ...(rule === undefined
                      ? { policy: 'NetworkPolicy' }
                      : isKindRule(rule)
                        ? ruleJson(rule)
                        : {
                            policy: clusterPolicyId(rule.policy),
                            rule: clusterRuleId(rule.policy, rule.rule),
                          }),
                    ports: portsToJson(ports),
                  })),
                }
              : {}),
          })),
          kindIsolatedBy: side.kindIsolatedBy.map((p) => kindPolicyJson(p, direction)),
          ...(side.kindNotIsolating
            ? { kindNotIsolating: side.kindNotIsolating.map((p) => kindPolicyJson(p, direction)) }
            : {}),
        }
      : {}),
    ports: portsToJson(side.ports),
  };
}

/**
 * The first group's answer at the top level, as for a workload whose pods are alike; with several
 * groups, `verdict` is `some` when they disagree, and `groups` holds each one with its pods.
 */
export function explanationJson(e: Explanation) {
  const outcome = queryOutcome(e);
  const verdict = outcome === 'some' ? 'some' : e.verdict ? 'allow' : 'deny';
  const pods = (end: Resolved, group: readonly Pod[] | undefined) =>
    end.kind === 'ip' || !group
      ? undefined
      : { pods: group.map((p) => p.name), labels: labelsApart(group, end.pods) };
  return {
    from: endpointName(e.from),
    to: endpointName(e.to),
    ...(e.query ? { query: e.query, verdict } : {}),
    allowed: portsToJson(e.allowed),
    samePod: e.samePod,
    partial: e.partial,
    egress: sideJson(e.egress, 'egress'),
    ingress: sideJson(e.ingress, 'ingress'),
    ...(e.groups.length > 1
      ? {
          groups: e.groups.map((g) => ({
            from: pods(e.from, g.fromPods),
            to: pods(e.to, g.toPods),
            ...(e.query ? { verdict: g.verdict ? 'allow' : 'deny' } : {}),
            allowed: portsToJson(g.allowed),
            samePod: g.samePod,
            egress: sideJson(g.egress, 'egress'),
            ingress: sideJson(g.ingress, 'ingress'),
          })),
        }
      : {}),
  };
}

/**
 * One sentence saying why a queried connection is allowed or denied, for test results; when the pods
 * of an end disagree, one per group, naming its pods.
 */
export function reasonFor(e: Explanation): string {
  if (queryOutcome(e) !== 'some') return answerReason(e, e);
  return e.groups
    .map(
      (g: PairGroup) =>
        `${g.verdict ? 'allowed' : 'denied'} for ${groupEnd(e.from, g.fromPods)} -> ${groupEnd(e.to, g.toPods)}: ${answerReason(e, g)}`,
    )
    .join(' | ');
}

function answerReason(e: Explanation, answer: PairAnswer): string {
  if (answer.samePod) return 'a pod may always reach itself';
  const sides: [Direction, SideExplanation | undefined][] = [
    ['egress', answer.egress],
    ['ingress', answer.ingress],
  ];
  const covers = (entry: { ports: PortSet }) => queryCovers(e, entry.ports);
  const parts: string[] = [];
  for (const [direction, side] of sides) {
    const [subject, peer] = direction === 'egress' ? [e.from, e.to] : [e.to, e.from];
    if (side && !side.hostNetwork && kindChain(side)) {
      const deciding = side.chain.filter((step) => covers({ ports: step.ports }));
      const text = deciding.map((step) => chainStepText(side, step, endpointName(peer), direction));
      if (text.length > 0) parts.push(`${direction} of ${endpointName(subject)}: ${text.join('; ')}`);
      continue;
    }
    if (side && !side.hostNetwork && side.tiers.length > 0) {
      const deciding = side.tiers.filter((step) => covers({ ports: step.ports }));
      const text = deciding.map((step) => tierStepText(side, step, endpointName(peer)));
      if (text.length > 0) parts.push(`${direction} of ${endpointName(subject)}: ${text.join('; ')}`);
      continue;
    }
    if (!side || side.hostNetwork || side.isolatedBy.length === 0) continue;
    const admitting = side.admittedBy.filter(covers);
    if (admitting.length > 0) {
      parts.push(
        `${direction} admitted by ${admitting.map((a) => `${ruleName(a.policy, a.rule)} (${where(a.rule.provenance)})`).join(', ')}`,
      );
    } else {
      const isolation = side.isolatedBy.map((p) => `${policyName(p)} (${where(p.provenance)})`).join(', ');
      parts.push(
        `${direction} of ${endpointName(subject)} is isolated by ${isolation} and no rule admits ${endpointName(peer)} on ${queryText(e)}`,
      );
    }
  }
  if (parts.length === 0) return 'no NetworkPolicy isolates either end';
  return parts.join('; ');
}
