import type { Engine, PodClass } from '../engine/engine.ts';
import type { KindRule, RuleOrigin } from '../engine/kind-rules.ts';
import {
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
import type { L7Filter } from './l7.ts';

/** An egress peer known by name only (`fqdn:*.example.com`), and the ports the subject may reach it on. */
export interface NamedPeer {
  name: string;
  ports: PortSet;
  /** The allow rules with L7 rules among those naming it, with their ports. */
  l7Filtered: L7Filter[];
  /** The allow rules naming it, with the ports each grants once the denies have taken theirs. */
  grantedBy: NamedRule[];
}

/** A rule and the ports it decides. */
export interface NamedRule {
  rule: RuleOrigin;
  ports: PortSet;
}

/**
 * Why a class may reach one name: the allow rules naming it (with the ports they name), the deny rules
 * of every address outside the cluster that take some of those ports, and the deny rules of some
 * addresses only, which take them if the name resolves into their addresses.
 */
export interface NamedPeerAnswer extends NamedPeer {
  allowedBy: NamedRule[];
  deniedBy: NamedRule[];
  mayBeDeniedBy: NamedRule[];
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
  const denied = deniedPorts(rules);
  const byName = new Map<string, Accumulated>();
  for (const rule of rules) {
    if (rule.action !== 'Allow' || !rule.names) continue;
    const ports = subtractPorts(portsOf(rule), denied);
    if (isEmptyPorts(ports)) continue;
    for (const name of rule.names) {
      const peer = byName.get(name) ?? accumulator(name);
      add(peer, rule, ports);
      byName.set(name, peer);
    }
  }
  return [...byName.values()].map(finish);
}

/**
 * The answer for one name as the user gave it (`fqdn:api.example.com`): the allow rules whose name or
 * pattern covers it, on the same reading as namedPeers.
 */
export function explainNamedPeer(engine: Engine, subject: PodClass, name: string): NamedPeerAnswer {
  const rules = engine.kindRulesOf(subject, 'egress');
  const denied = deniedPorts(rules);
  const peer = accumulator(name);
  const allowedBy: NamedRule[] = [];
  for (const rule of rules) {
    if (rule.action !== 'Allow' || !rule.names?.some((pattern) => nameMatches(pattern, name))) continue;
    allowedBy.push({ rule: rule.origin, ports: portsOf(rule) });
    const ports = subtractPorts(portsOf(rule), denied);
    if (!isEmptyPorts(ports)) add(peer, rule, ports);
  }
  const named = allowedBy.reduce((all, r) => unionPorts(all, r.ports), NO_PORTS);
  const taking = (match: (r: KindRule) => boolean) =>
    rules
      .filter((r) => r.action === 'Deny' && match(r))
      .map((r) => ({ rule: r.origin, ports: intersectPorts(portsOf(r), named) }))
      .filter((r) => !isEmptyPorts(r.ports));
  return {
    ...finish(peer),
    allowedBy,
    deniedBy: taking((r) => r.matchesEveryName === true),
    mayBeDeniedBy: taking((r) => !r.matchesEveryName && r.addresses.length > 0),
  };
}

/**
 * Whether a rule's `fqdn:<pattern>` covers an asked `fqdn:<name>` (or the same pattern), as Cilium
 * matches names: lower-case, without the trailing dot, as the loader keeps patterns.
 */
export function nameMatches(pattern: string, asked: string): boolean {
  const name = asked.toLowerCase().replace(/\.$/, '');
  return (
    pattern.startsWith('fqdn:') &&
    name.startsWith('fqdn:') &&
    dnsPatternAllows(pattern.slice(5), name.slice(5))
  );
}

/**
 * Whether a DNS name or pattern lets a name or pattern through (Cilium's pkg/fqdn/matchpattern): `*`
 * alone matches every name, elsewhere it stands for DNS characters within one label; a `*` in the
 * name is matched as a character, so `*.example.com` lets `*.example.com` through and `*.com` does not.
 */
export function dnsPatternAllows(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  // Patterns from phiwall.yaml are not validated as Cilium's are: escape every regex character.
  const parts = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[-a-z0-9_*]*')}$`).test(name);
}

type Accumulated = NamedPeer & { plain: PortSet };

function accumulator(name: string): Accumulated {
  return { name, ports: NO_PORTS, l7Filtered: [], grantedBy: [], plain: NO_PORTS };
}

function portsOf(rule: KindRule): PortSet {
  return rule.numericPorts ?? rule.ports(undefined);
}

/** The ports a deny rule takes from every address outside the cluster, so from whatever a name resolves to. */
function deniedPorts(rules: readonly KindRule[]): PortSet {
  let denied = NO_PORTS;
  for (const rule of rules)
    if (rule.action === 'Deny' && rule.matchesEveryName) denied = unionPorts(denied, portsOf(rule));
  return denied;
}

function add(peer: Accumulated, rule: KindRule, ports: PortSet): void {
  peer.ports = unionPorts(peer.ports, ports);
  peer.grantedBy.push({ rule: rule.origin, ports });
  if (rule.origin.note) peer.l7Filtered.push({ rule: rule.origin, ports });
  else peer.plain = unionPorts(peer.plain, ports);
}

/** As for addresses (l7.ts): where a rule without L7 rules allows the same port, L7 rules do nothing. */
function finish({ plain, ...peer }: Accumulated): NamedPeer {
  return {
    ...peer,
    l7Filtered: peer.l7Filtered
      .map((f) => ({ ...f, ports: subtractPorts(f.ports, plain) }))
      .filter((f) => !isEmptyPorts(f.ports)),
  };
}
