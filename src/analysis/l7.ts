import type { Engine, PodClass } from '../engine/engine.ts';
import { type IntervalSet, intersect } from '../engine/intervals.ts';
import type { KindRule, RuleOrigin } from '../engine/kind-rules.ts';
import { formatPorts, intersectPorts, isEmptyPorts, type PortSet, unionPorts } from '../engine/ports.ts';
import type { Direction } from '../model/types.ts';

/** Ports of a connection that an allow rule with L7 rules (Cilium's `toPorts[].rules`) admits. */
export interface L7Filter {
  rule: RuleOrigin;
  ports: PortSet;
}

/** The other end of one direction: pod classes, or external addresses. */
export type L7Peer = { classes: readonly PodClass[] } | { addresses: IntervalSet<bigint> };

/**
 * The allow rules with a note (L7 rules: the connection is allowed at L4, then a proxy filters its
 * requests) that match the peer on some of `allowed`, on either side's rules. Cilium sends a port to its
 * proxy whenever such a rule matches it, even where another rule allows the same port without L7 rules
 * (the proxy then lets every request through), so every matching rule counts, not only the first.
 */
export function l7Filters(
  engine: Engine,
  sides: readonly { subject: PodClass; direction: Direction; peer: L7Peer }[],
  allowed: PortSet,
): L7Filter[] {
  const byRule = new Map<string, L7Filter>();
  for (const { subject, direction, peer } of sides) {
    for (const rule of engine.kindRulesOf(subject, direction)) {
      if (rule.action !== 'Allow' || !rule.origin.note) continue;
      for (const destination of destinations(rule, direction, subject, peer)) {
        const ports = intersectPorts(rule.numericPorts ?? rule.ports(destination), allowed);
        if (isEmptyPorts(ports)) continue;
        const previous = byRule.get(rule.origin.rule);
        if (previous) previous.ports = unionPorts(previous.ports, ports);
        else byRule.set(rule.origin.rule, { rule: rule.origin, ports });
      }
    }
  }
  return [...byRule.values()];
}

/** The destinations at which a rule matches the peer (named ports resolve there; undefined: an address). */
function destinations(
  rule: KindRule,
  direction: Direction,
  subject: PodClass,
  peer: L7Peer,
): (PodClass | undefined)[] {
  if ('addresses' in peer) {
    if (intersect(rule.addresses, peer.addresses).length === 0) return [];
    return [direction === 'ingress' ? subject : undefined];
  }
  const matched = peer.classes.filter((c) => rule.classes.has(c.id));
  if (direction === 'ingress') return matched.length > 0 ? [subject] : [];
  return matched;
}

/** `L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]`, one per rule. */
export function l7Text(filters: readonly L7Filter[]): string {
  return filters.map(({ rule, ports }) => `${rule.note} on ${formatPorts(ports)} by ${rule.rule}`).join('; ');
}
