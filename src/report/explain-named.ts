import { labelsApart, queryCovers } from '../analysis/explain.ts';
import type { NamedExplanation, NamedGroup } from '../analysis/explain-named.ts';
import type { NamedRule } from '../analysis/named-peers.ts';
import { formatPorts, isEmptyPorts, type PortSet } from '../engine/ports.ts';
import { endpointName, groupEnd, PARTIAL_NOTE, queryHit, queryText, where } from './explain.ts';
import { portsToJson } from './ports-json.ts';

/** Why an answer about a name is only as good as what DNS returns, said once in every output. */
export function dnsNote(to: string): string {
  return `${to} is known by name only: Cilium allows the addresses the pod's own DNS lookups return for it, so the answer rests on DNS resolution`;
}

export function renderNamedExplanationText(e: NamedExplanation): string {
  const lines = [`${endpointName(e.from)} -> ${e.to}`];
  if (e.partial) lines.push(PARTIAL_NOTE);
  lines.push(dnsNote(e.to));
  if (e.groups.length > 1) {
    const allowing = e.groups.filter((g) => g.verdict).length;
    lines.push(
      `The pods of ${endpointName(e.from)} are not all treated alike: ${e.groups.length} groups, one answer each`,
    );
    if (e.query)
      lines.push(
        `Verdict on ${queryText(e)}: ${allowing === e.groups.length ? 'ALLOWED for every pod' : allowing === 0 ? 'DENIED for every pod' : 'ALLOWED for some pods, DENIED for others'}`,
      );
  }
  e.groups.forEach((group, i) => {
    if (e.groups.length > 1) {
      const pods = group.fromPods;
      const apart = labelsApart(pods, e.from.pods);
      lines.push(
        '',
        `Group ${i + 1} of ${e.groups.length}: pods ${pods.map((p) => p.name).join(', ')}${apart.length ? ` (${apart.join(', ')})` : ''}`,
      );
    }
    lines.push(...groupLines(e, group));
  });
  return `${lines.join('\n')}\n`;
}

function ruleText(r: NamedRule): string {
  return `${r.rule.rule}${r.rule.note ? ` [${r.rule.note}]` : ''} (${where(r.rule.provenance)})`;
}

function groupLines(e: NamedExplanation, g: NamedGroup): string[] {
  const allowed = isEmptyPorts(g.allowed) ? 'nothing' : formatPorts(g.allowed);
  const lines = e.query
    ? [`Verdict on ${queryText(e)}: ${g.verdict ? 'ALLOWED' : 'DENIED'}`, `Allowed: ${allowed}`]
    : [
        isEmptyPorts(g.allowed)
          ? 'Verdict: DENIED on every port and protocol'
          : `Verdict: ALLOWED on ${allowed}`,
      ];
  lines.push('', `Egress from ${endpointName(e.from)} to ${e.to}:`);
  if (g.allowedBy.length === 0) lines.push(`  no toFQDNs rule of a policy selecting it names ${e.to}`);
  for (const r of g.allowedBy)
    lines.push(`  allowed by ${ruleText(r)}: ${formatPorts(r.ports)}${queryHit(e, r.ports)}`);
  for (const f of g.l7Filtered)
    lines.push(`  L7-filtered on ${formatPorts(f.ports)}: ${f.rule.rule} (${where(f.rule.provenance)})`);
  for (const r of g.deniedBy)
    lines.push(
      `  denied by ${ruleText(r)}, a deny of every address outside the cluster, so of whatever ${e.to} resolves to: ${formatPorts(r.ports)}; a deny wins over every allow${queryHit(e, r.ports)}`,
    );
  for (const r of g.mayBeDeniedBy)
    lines.push(
      `  may be denied by ${ruleText(r)}, a deny of some addresses outside the cluster, if ${e.to} resolves into them: ${formatPorts(r.ports)}${queryHit(e, r.ports)}`,
    );
  if (!isEmptyPorts(g.everyAddress))
    lines.push(
      `  open to every address outside the cluster, so to whatever ${e.to} resolves to: ${formatPorts(g.everyAddress)}${queryHit(e, g.everyAddress)} (explain an address for the rules)`,
    );
  return lines;
}

/**
 * One line for a test result: what decides the asked port for each group of the source's pods (a deny
 * of every outside address, a rule naming the name, every outside address open, or nothing), and that
 * the answer rests on DNS.
 */
export function namedReasonFor(e: NamedExplanation): string {
  const covers = (ports: PortSet) => queryCovers(e, ports);
  const rules = (list: readonly NamedRule[]) =>
    list
      .filter((r) => covers(r.ports))
      .map(ruleText)
      .join(', ');
  const reason = (g: NamedGroup): string => {
    const parts: string[] = [];
    const denied = rules(g.deniedBy);
    const allowed = rules(g.allowedBy);
    if (denied)
      return `egress of ${endpointName(e.from)}: denied by ${denied}, a deny of every address outside the cluster, which wins over ${allowed ? `the allow of ${allowed}` : 'every allow'}`;
    if (allowed) parts.push(`allowed by ${allowed}`);
    if (covers(g.everyAddress)) parts.push('open to every address outside the cluster');
    const mayBe = rules(g.mayBeDeniedBy);
    if (mayBe) parts.push(`may be denied by ${mayBe} if ${e.to} resolves into its addresses`);
    if (parts.length === 0) parts.push(`no toFQDNs rule of a policy selecting it names ${e.to}`);
    return `egress of ${endpointName(e.from)}: ${parts.join('; ')}`;
  };
  const text =
    e.groups.length === 1
      ? reason(e.groups[0] as NamedGroup)
      : e.groups
          .map((g) => `${g.verdict ? 'allowed' : 'denied'} for ${groupEnd(e.from, g.fromPods)}: ${reason(g)}`)
          .join(' | ');
  return `${text} (rests on DNS resolution of ${e.to})`;
}

function rulesJson(list: readonly NamedRule[]) {
  return list.map((r) => ({
    policy: r.rule.policy,
    rule: r.rule.rule,
    at: where(r.rule.provenance),
    ...(r.rule.note ? { note: r.rule.note } : {}),
    ports: portsToJson(r.ports),
  }));
}

function groupJson(e: NamedExplanation, g: NamedGroup) {
  return {
    ...(e.query ? { verdict: g.verdict ? 'allow' : 'deny' } : {}),
    allowed: portsToJson(g.allowed),
    allowedBy: rulesJson(g.allowedBy),
    deniedBy: rulesJson(g.deniedBy),
    mayBeDeniedBy: rulesJson(g.mayBeDeniedBy),
    everyAddress: portsToJson(g.everyAddress),
    ...(g.l7Filtered.length
      ? {
          l7Filtered: g.l7Filtered.map((f) => ({
            rule: f.rule.rule,
            at: where(f.rule.provenance),
            ports: portsToJson(f.ports),
          })),
        }
      : {}),
  };
}

/**
 * As explanationJson: the first group's answer at the top level, `verdict` `some` when groups disagree,
 * and `groups` with each group's pods when there are several. `to` is the name as asked.
 */
export function namedExplanationJson(e: NamedExplanation) {
  const [first] = e.groups as [NamedGroup];
  const allowing = e.groups.filter((g) => g.verdict).length;
  const some = allowing > 0 && allowing < e.groups.length;
  const { verdict, ...top } = groupJson(e, first);
  return {
    from: endpointName(e.from),
    to: e.to,
    ...(e.query ? { query: e.query, verdict: some ? 'some' : verdict } : {}),
    ...top,
    dependsOn: e.dependsOn,
    note: dnsNote(e.to),
    partial: e.partial,
    ...(e.groups.length > 1
      ? {
          groups: e.groups.map((g) => ({
            from: { pods: g.fromPods.map((p) => p.name), labels: labelsApart(g.fromPods, e.from.pods) },
            ...groupJson(e, g),
          })),
        }
      : {}),
  };
}
