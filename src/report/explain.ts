import type { Explanation } from '../analysis/explain.ts';
import type { Resolved } from '../analysis/resolve.ts';
import type { SideExplanation } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { isKindRule } from '../engine/kind-rules.ts';
import { formatPorts, isEmptyPorts, type PortSet } from '../engine/ports.ts';
import {
  actionWord,
  clusterPolicyId,
  clusterRuleId,
  type Direction,
  type NetworkPolicy,
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

export function endpointName(resolved: Resolved): string {
  return resolved.kind === 'ip' ? resolved.ip : resolved.workload.id;
}

function queryText(e: Explanation): string {
  if (!e.query) return '';
  return e.query.port === undefined ? e.query.protocol : `${e.query.protocol} ${e.query.port}`;
}

function queryHit(e: Explanation, ports: PortSet): string {
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

/**
 * One decision of the walk over every kind's tiers (Calico's and Cilium's beside the Kubernetes ones):
 * `Calico tier security: GlobalNetworkPolicy guard (tier security, order 10) ingress[0] (file:12): Deny on TCP 80`.
 */
function chainStepText(side: SideExplanation, step: ChainStep, peer: string): string {
  const ports = formatPorts(step.ports);
  const next = step.action === 'Pass' ? ', passed to the next tier' : '';
  if (step.rule && isKindRule(step.rule)) {
    const { origin } = step.rule;
    const note = origin.note ? ` [${origin.note}]` : '';
    return `${step.tier}: ${origin.rule}${note} (${where(origin.provenance)}): ${step.action} on ${ports}${next}`;
  }
  if (step.rule || step.tier === 'Default' || (step.tier === 'NetworkPolicy' && step.action === 'Allow'))
    return tierStepText(side, step as TierStep, peer);
  if (step.tier === 'Default') return `no tier decided ${ports}: allowed by default`;
  // A level that applies to the subject and decided nothing ends in Deny.
  const by = [
    ...side.isolatedBy.map((p) => `${policyName(p)} (${where(p.provenance)})`),
    ...side.kindIsolatedBy
      .filter((p) => p.tier === step.tier || step.tier === 'NetworkPolicy')
      .map((p) => `${p.origin.policy} (${where(p.origin.provenance)})`),
  ];
  return `${step.tier}: applies (${by.join(', ')}); no rule decided ${ports} for ${peer}: denied`;
}

function sideLines(e: Explanation, direction: Direction, side: SideExplanation | undefined): string[] {
  const [subject, peer] = direction === 'egress' ? [e.from, e.to] : [e.to, e.from];
  const title = `${direction === 'egress' ? 'Egress from' : 'Ingress to'} ${endpointName(subject)}`;
  if (!side) return [`${title}: an external address; NetworkPolicy does not govern it`];
  if (side.hostNetwork)
    return [`${title}: a hostNetwork pod; NetworkPolicy does not apply to it (CNI-dependent)`];
  if (side.kindSteps.length > 0 || side.kindIsolatedBy.length > 0) {
    return [
      `${title}: decided tier by tier, in order`,
      ...side.chain.map(
        (step) => `  ${chainStepText(side, step, endpointName(peer))}${queryHit(e, step.ports)}`,
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
  if (e.samePod) {
    lines.push('Verdict: ALLOWED (a pod may always reach itself)');
    return `${lines.join('\n')}\n`;
  }
  const allowed = isEmptyPorts(e.allowed) ? 'nothing' : formatPorts(e.allowed);
  if (e.query) {
    lines.push(`Verdict on ${queryText(e)}: ${e.verdict ? 'ALLOWED' : 'DENIED'}`, `Allowed: ${allowed}`);
  } else {
    lines.push(
      isEmptyPorts(e.allowed)
        ? 'Verdict: DENIED on every port and protocol'
        : `Verdict: ALLOWED on ${allowed}`,
    );
  }
  lines.push('');
  lines.push(...sideLines(e, 'egress', e.egress), ...sideLines(e, 'ingress', e.ingress));
  return `${lines.join('\n')}\n`;
}

function sideJson(side: SideExplanation | undefined) {
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
    ...(side.kindSteps.length > 0 || side.kindIsolatedBy.length > 0
      ? {
          chain: side.chain.map((step) => ({
            tier: step.tier,
            action: step.action,
            ...(step.rule && isKindRule(step.rule)
              ? {
                  policy: step.rule.origin.policy,
                  rule: step.rule.origin.rule,
                  at: where(step.rule.origin.provenance),
                }
              : {}),
            ports: portsToJson(step.ports),
          })),
        }
      : {}),
    ports: portsToJson(side.ports),
  };
}

export function explanationJson(e: Explanation) {
  return {
    from: endpointName(e.from),
    to: endpointName(e.to),
    ...(e.query ? { query: e.query, verdict: e.verdict ? 'allow' : 'deny' } : {}),
    allowed: portsToJson(e.allowed),
    samePod: e.samePod,
    partial: e.partial,
    egress: sideJson(e.egress),
    ingress: sideJson(e.ingress),
  };
}

/** One sentence saying why a queried connection is allowed or denied, for test results. */
export function reasonFor(e: Explanation): string {
  if (e.samePod) return 'a pod may always reach itself';
  const sides: [Direction, SideExplanation | undefined][] = [
    ['egress', e.egress],
    ['ingress', e.ingress],
  ];
  const port = e.query?.port;
  const covers = (entry: { ports: PortSet }) =>
    e.query
      ? port === undefined
        ? entry.ports[e.query.protocol].length > 0
        : contains(entry.ports[e.query.protocol], port)
      : true;
  const parts: string[] = [];
  for (const [direction, side] of sides) {
    const [subject, peer] = direction === 'egress' ? [e.from, e.to] : [e.to, e.from];
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
