import {
  type CiliumPeer,
  type CiliumPolicy,
  type CiliumRule,
  type CiliumSelector,
  ciliumPolicyId,
  ciliumRuleId,
} from '../../model/cilium.ts';
import type { Direction, Labels, Snapshot } from '../../model/types.ts';
import { ALL_ADDRESSES, ipBlockAddresses, parseAddress } from '../addresses.ts';
import { contains, type IntervalSet, intersect, normalize, subtract, union } from '../intervals.ts';
import { type KindPolicy, type KindRule, NETWORK_POLICY_LEVEL, NETWORK_POLICY_ORDER } from '../kind-rules.ts';
import type { PodClass } from '../pod-classes.ts';
import { ALL_PORTS, NO_PORTS, type PortSet, portSetOf, unionPorts } from '../ports.ts';
import {
  ciliumNodes,
  ciliumSelectorMatches,
  NODE_IDENTITY,
  nodeIdentityLabels,
  peerCidrs,
  podIdentityLabels,
  WORLD_IDENTITY,
} from './identity.ts';

const V4_END = (1n << 32n) - 1n;

/** What a peer matches: classes and external addresses. */
export interface Matched {
  classes: Set<number>;
  addresses: IntervalSet<bigint>;
}

/**
 * The Cilium adapter: compiles CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies to rules of
 * the NetworkPolicy level (see docs/semantics.md): deny rules first (a deny wins over every allow,
 * whatever kind holds it), allows beside NetworkPolicy's, and isolation when a policy with rules in a
 * direction selects the endpoint and its enableDefaultDeny does not switch that direction off.
 */
export class CiliumAdapter {
  private readonly endpointLabels = new Map<number, Labels>();
  /** hostNetwork classes: a Cilium node's identity, or world when their address is no Cilium node's. */
  private readonly nodeClasses: number[] = [];
  private readonly worldClasses: number[] = [];
  private readonly nodeAddresses: IntervalSet<bigint>;
  /** Addresses of no pod and no Cilium node: where toFQDNs names resolve to. */
  readonly worldAddresses: IntervalSet<bigint>;
  private readonly selectorCache = new Map<string, Matched>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly classes: readonly PodClass[],
  ) {
    this.nodeAddresses = ciliumNodeAddresses(snapshot);
    this.worldAddresses = worldAddresses(snapshot, classes);
    for (const c of classes) {
      if (!c.hostNetwork) {
        const namespaceLabels = snapshot.namespaces.get(c.namespace)?.labels ?? {};
        this.endpointLabels.set(
          c.id,
          podIdentityLabels(c.pods[0] as PodClass['pods'][number], namespaceLabels),
        );
      } else if (c.addresses.length === 0 || c.addresses.some((a) => contains(this.nodeAddresses, a))) {
        this.nodeClasses.push(c.id);
      } else this.worldClasses.push(c.id);
    }
  }

  compile(nextId: () => number): KindPolicy[] {
    return this.snapshot.ciliumPolicies.map((policy) => this.compilePolicy(policy, nextId));
  }

  private compilePolicy(policy: CiliumPolicy, nextId: () => number): KindPolicy {
    const subjects = new Set<number>();
    for (const [id, labels] of this.endpointLabels) {
      if (ciliumSelectorMatches(policy.endpointSelector, labels)) subjects.add(id);
    }
    const rules = (direction: Direction): KindRule[] => {
      const out: KindRule[] = [];
      for (const rule of policy[direction]) {
        out.push(this.compileRule(policy, rule, nextId()));
        for (const required of rule.requires ?? []) {
          // A peer that does not match a requirement is denied whatever allows it.
          const matched = this.selector(required);
          out.push({
            id: nextId(),
            action: 'Deny',
            order: Number.NEGATIVE_INFINITY,
            classes: new Set(this.classes.map((c) => c.id).filter((id) => !matched.classes.has(id))),
            addresses: subtract(ALL_ADDRESSES, matched.addresses),
            numericPorts: ALL_PORTS,
            ports: () => ALL_PORTS,
            origin: {
              kind: policy.kind,
              policy: ciliumPolicyId(policy),
              rule: `${ciliumRuleId(policy, rule)} ${direction === 'ingress' ? 'fromRequires' : 'toRequires'}`,
              provenance: rule.provenance,
            },
          });
        }
      }
      return out;
    };
    const isolates = (direction: Direction) => policy.defaultDeny[direction] && policy[direction].length > 0;
    const note = (direction: Direction) =>
      isolates(direction)
        ? `it has ${direction} rules and enableDefaultDeny.${direction} is not false`
        : policy[direction].length === 0
          ? `it has no ${direction} rules`
          : `enableDefaultDeny.${direction}: false`;
    return {
      level: NETWORK_POLICY_LEVEL,
      tier: 'NetworkPolicy',
      subjects,
      isolates: { ingress: isolates('ingress'), egress: isolates('egress') },
      isolationNote: { ingress: note('ingress'), egress: note('egress') },
      rules: { ingress: rules('ingress'), egress: rules('egress') },
      origin: { kind: policy.kind, policy: ciliumPolicyId(policy), provenance: policy.provenance },
    };
  }

  private compileRule(policy: CiliumPolicy, rule: CiliumRule, id: number): KindRule {
    const matched = this.ruleMatches(rule);
    const named = rule.ports?.some((p) => typeof p.port === 'string') ?? false;
    const names = (rule.peers ?? []).flatMap((p) => (p.kind === 'fqdn' ? [`fqdn:${p.pattern}`] : []));
    const ports = (destination: PodClass | undefined) => rulePorts(rule, destination);
    return {
      id,
      action: rule.deny ? 'Deny' : 'Allow',
      order: rule.deny ? Number.NEGATIVE_INFINITY : NETWORK_POLICY_ORDER,
      classes: matched.classes,
      addresses: matched.addresses,
      ...(named ? {} : { numericPorts: ports(undefined) }),
      ports,
      origin: {
        kind: policy.kind,
        policy: ciliumPolicyId(policy),
        rule: ciliumRuleId(policy, rule),
        provenance: rule.provenance,
        ...(rule.l7 ? { note: `L7-filtered (${rule.l7.join(', ')})` } : {}),
      },
      ...(names.length > 0 ? { names } : {}),
      ...(subtract(this.worldAddresses, matched.addresses).length === 0 ? { matchesEveryName: true } : {}),
    };
  }

  private ruleMatches(rule: CiliumRule): Matched {
    // A rule that names no layer-3 peer matches every peer, if it says anything at all (an empty rule
    // `{}` only isolates).
    if (rule.peers === undefined) {
      if (rule.ports === undefined && rule.icmpTypes === undefined)
        return { classes: new Set(), addresses: [] };
      return { classes: new Set(this.classes.map((c) => c.id)), addresses: ALL_ADDRESSES };
    }
    const classes = new Set<number>();
    let addresses: IntervalSet<bigint> = [];
    for (const peer of rule.peers) {
      const m = this.peer(peer);
      for (const id of m.classes) classes.add(id);
      addresses = union(addresses, m.addresses);
    }
    return { classes, addresses };
  }

  private peer(peer: CiliumPeer): Matched {
    switch (peer.kind) {
      case 'endpoints':
        return this.selector(peer.selector);
      case 'entity':
        return this.entity(peer.entity);
      case 'cidr':
      case 'cidrGroup': {
        const ranges = normalize(
          peerCidrs(peer, this.snapshot.ciliumCidrGroups).flatMap((block) => ipBlockAddresses(block)),
        );
        return this.world(intersect(ranges, this.worldAddresses));
      }
      case 'nodes': {
        const ips = ciliumNodes(this.snapshot.nodes)
          .filter((node) => ciliumSelectorMatches(peer.selector, nodeIdentityLabels(node)))
          .flatMap((node) => node.ips);
        const addresses = points(ips);
        // A hostNetwork pod with no known address is on some Cilium node: matched if any node is.
        const classes = this.nodeClasses.filter((id) => {
          const c = this.classes[id] as PodClass;
          return c.addresses.length === 0 ? ips.length > 0 : c.addresses.some((a) => contains(addresses, a));
        });
        return { classes: new Set(classes), addresses };
      }
      case 'fqdn':
      case 'service':
        return { classes: new Set(), addresses: [] };
    }
  }

  /** World classes and addresses within `addresses`. */
  private world(addresses: IntervalSet<bigint>): Matched {
    const classes = this.worldClasses.filter((id) =>
      (this.classes[id] as PodClass).addresses.some((a) => contains(addresses, a)),
    );
    return { classes: new Set(classes), addresses };
  }

  private entity(entity: CiliumPeer & { kind: 'entity' } extends { entity: infer E } ? E : never): Matched {
    const endpoints = [...this.endpointLabels.keys()];
    switch (entity) {
      case 'all':
        return { classes: new Set(this.classes.map((c) => c.id)), addresses: ALL_ADDRESSES };
      case 'world':
        return this.world(this.worldAddresses);
      case 'world-ipv4':
        return this.world(intersect(this.worldAddresses, [[0n, V4_END]]));
      case 'world-ipv6':
        return this.world(subtract(this.worldAddresses, [[0n, V4_END]]));
      case 'cluster':
        return {
          classes: new Set([...endpoints, ...this.nodeClasses]),
          addresses: subtract(ALL_ADDRESSES, this.worldAddresses),
        };
      case 'host':
      case 'remote-node':
        return { classes: new Set(this.nodeClasses), addresses: this.nodeAddresses };
      default:
        // kube-apiserver, ingress, health, init, unmanaged: no such endpoint in a snapshot.
        return { classes: new Set(), addresses: [] };
    }
  }

  /** Endpoints whose identity labels match, and the node and world identities when they do. */
  selector(selector: CiliumSelector): Matched {
    const key = JSON.stringify(selector);
    let matched = this.selectorCache.get(key);
    if (!matched) {
      const classes = new Set<number>();
      for (const [id, labels] of this.endpointLabels)
        if (ciliumSelectorMatches(selector, labels)) classes.add(id);
      let addresses: IntervalSet<bigint> = [];
      if (ciliumSelectorMatches(selector, NODE_IDENTITY)) {
        for (const id of this.nodeClasses) classes.add(id);
        addresses = union(addresses, this.nodeAddresses);
      }
      if (ciliumSelectorMatches(selector, WORLD_IDENTITY)) {
        const world = this.world(this.worldAddresses);
        for (const id of world.classes) classes.add(id);
        addresses = union(addresses, world.addresses);
      }
      matched = { classes, addresses };
      this.selectorCache.set(key, matched);
    }
    return matched;
  }
}

function ciliumNodeAddresses(snapshot: Snapshot): IntervalSet<bigint> {
  return points(ciliumNodes(snapshot.nodes).flatMap((n) => n.ips));
}

/** Addresses of no pod and no Cilium node: Cilium's `world`, where toFQDNs names resolve to. */
export function worldAddresses(snapshot: Snapshot, classes: readonly PodClass[]): IntervalSet<bigint> {
  // Every member's addresses: members share the address pieces the cuts make, not the addresses.
  const podAddresses = points(
    classes.filter((c) => !c.hostNetwork).flatMap((c) => c.pods.flatMap((p) => p.ips)),
  );
  return subtract(ALL_ADDRESSES, union(ciliumNodeAddresses(snapshot), podAddresses));
}

function points(ips: readonly string[]): IntervalSet<bigint> {
  return normalize(
    ips
      .map(parseAddress)
      .filter((a): a is bigint => a !== undefined)
      .map((a) => [a, a] as const),
  );
}

/** A rule's ports at a destination: toPorts (named ports on the destination), icmps, or everything. */
export function rulePorts(rule: CiliumRule, destination: PodClass | undefined): PortSet {
  if (rule.ports === undefined && rule.icmpTypes === undefined) return ALL_PORTS;
  let set = NO_PORTS;
  for (const p of rule.ports ?? []) {
    for (const protocol of p.protocols) {
      if (typeof p.port === 'string') {
        for (const named of destination?.namedPorts ?? []) {
          if (named.name === p.port && named.protocol === protocol)
            set = unionPorts(set, portSetOf(protocol, [[named.port, named.port]]));
        }
      } else {
        const range = p.port === undefined ? ([1, 65535] as const) : ([p.port, p.endPort ?? p.port] as const);
        set = unionPorts(set, portSetOf(protocol, [range]));
      }
    }
  }
  if (rule.icmpTypes)
    set = unionPorts(set, portSetOf('ICMP', normalize(rule.icmpTypes.map((t) => [t, t] as const))));
  return set;
}
