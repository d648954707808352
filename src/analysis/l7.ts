import { formatAddress } from '../engine/addresses.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { type IntervalSet, intersect, subtract } from '../engine/intervals.ts';
import type { KindRule, RuleOrigin } from '../engine/kind-rules.ts';
import {
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
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
 * requests) that match the peer on some of `allowed`, on either side's rules. Cilium's docs (Layer 7
 * policies): where a rule without L7 rules allows the same port to the same peer, the L7 rules have no
 * effect, so those ports are not L7-filtered; NetworkPolicy allows count as such rules.
 */
export function l7Filters(
  engine: Engine,
  sides: readonly { subject: PodClass; direction: Direction; peer: L7Peer }[],
  allowed: PortSet,
): L7Filter[] {
  const byRule = new Map<string, L7Filter>();
  for (const { subject, direction, peer } of sides) {
    const rules = engine.kindRulesOf(subject, direction).filter((r) => r.action === 'Allow');
    if (!rules.some((r) => r.origin.note)) continue;
    for (const one of peersOf(peer)) {
      const destination = direction === 'ingress' ? subject : 'podClass' in one ? one.podClass : undefined;
      const plain = plainPorts(engine, rules, subject, direction, one, destination);
      for (const rule of rules) {
        if (!rule.origin.note || !matches(rule, one, false)) continue;
        const ports = subtractPorts(
          intersectPorts(rule.numericPorts ?? rule.ports(destination), allowed),
          plain,
        );
        if (isEmptyPorts(ports)) continue;
        const previous = byRule.get(rule.origin.rule);
        if (previous) previous.ports = unionPorts(previous.ports, ports);
        else byRule.set(rule.origin.rule, { rule: rule.origin, ports });
      }
    }
  }
  return [...byRule.values()];
}

type OnePeer = { podClass: PodClass } | { addresses: IntervalSet<bigint> };

function peersOf(peer: L7Peer): OnePeer[] {
  return 'addresses' in peer ? [peer] : peer.classes.map((podClass) => ({ podClass }));
}

/** Whether a rule matches the peer: some of its addresses, or (`whole`) all of them. */
function matches(rule: KindRule, peer: OnePeer, whole: boolean): boolean {
  if ('podClass' in peer) return rule.classes.has(peer.podClass.id);
  return whole
    ? subtract(peer.addresses, rule.addresses).length === 0
    : intersect(rule.addresses, peer.addresses).length > 0;
}

/** The ports allow rules without L7 rules, and NetworkPolicies, allow the peer: there L7 rules do nothing. */
function plainPorts(
  engine: Engine,
  rules: readonly KindRule[],
  subject: PodClass,
  direction: Direction,
  peer: OnePeer,
  destination: PodClass | undefined,
): PortSet {
  let plain = NO_PORTS;
  for (const rule of rules)
    if (!rule.origin.note && matches(rule, peer, true))
      plain = unionPorts(plain, rule.numericPorts ?? rule.ports(destination));
  const pod = subject.pods[0];
  const other = 'podClass' in peer ? peer.podClass.pods[0] : undefined;
  const first = 'addresses' in peer ? peer.addresses[0]?.[0] : undefined;
  if (!pod || (other === undefined && first === undefined)) return plain;
  const side = engine.explainSide(
    pod,
    other ? { pod: other } : { ip: formatAddress(first as bigint) },
    direction,
  );
  for (const entry of side.admittedBy) plain = unionPorts(plain, entry.ports);
  return plain;
}

/** `L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]`, one per rule. */
export function l7Text(filters: readonly L7Filter[]): string {
  return filters.map(({ rule, ports }) => `${rule.note} on ${formatPorts(ports)} by ${rule.rule}`).join('; ');
}
