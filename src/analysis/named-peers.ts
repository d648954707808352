import type { Engine, PodClass } from '../engine/engine.ts';
import { isEmptyPorts, NO_PORTS, type PortSet, subtractPorts, unionPorts } from '../engine/ports.ts';
import type { L7Filter } from './l7.ts';

/** An egress peer known by name only (`fqdn:*.example.com`), and the ports the subject may reach it on. */
export interface NamedPeer {
  name: string;
  ports: PortSet;
  /** The allow rules with L7 rules among those naming it, with their ports. */
  l7Filtered: L7Filter[];
}

/**
 * The peers a class may reach by name (Cilium's toFQDNs): the ports allow rules name for them, less
 * those a deny rule takes from every address outside the cluster (so from whatever a name resolves
 * to). A deny of some addresses only may or may not catch a name's addresses, which are unknown
 * offline: it is not subtracted, and the connection is marked as resting on DNS resolution.
 */
export function namedPeers(engine: Engine, subject: PodClass): NamedPeer[] {
  const rules = engine.kindRulesOf(subject, 'egress');
  if (!rules.some((r) => r.names)) return [];
  let denied = NO_PORTS;
  for (const rule of rules)
    if (rule.action === 'Deny' && rule.matchesEveryName)
      denied = unionPorts(denied, rule.numericPorts ?? rule.ports(undefined));
  const byName = new Map<string, NamedPeer & { plain: PortSet }>();
  for (const rule of rules) {
    if (rule.action !== 'Allow' || !rule.names) continue;
    const ports = subtractPorts(rule.numericPorts ?? rule.ports(undefined), denied);
    if (isEmptyPorts(ports)) continue;
    for (const name of rule.names) {
      const peer = byName.get(name) ?? { name, ports: NO_PORTS, l7Filtered: [], plain: NO_PORTS };
      peer.ports = unionPorts(peer.ports, ports);
      if (rule.origin.note) peer.l7Filtered.push({ rule: rule.origin, ports });
      else peer.plain = unionPorts(peer.plain, ports);
      byName.set(name, peer);
    }
  }
  // As for addresses (l7.ts): where a rule without L7 rules allows the same port, L7 rules do nothing.
  return [...byName.values()].map(({ plain, ...peer }) => ({
    ...peer,
    l7Filtered: peer.l7Filtered
      .map((f) => ({ ...f, ports: subtractPorts(f.ports, plain) }))
      .filter((f) => !isEmptyPorts(f.ports)),
  }));
}
