import type {
  Direction,
  LabelSelector,
  Labels,
  NamedPort,
  NetworkPolicy,
  Pod,
  PolicyPort,
  PolicyRule,
  Snapshot,
} from '../model/types.ts';
import { type AddressPorts, partitionByPorts } from './address-partition.ts';
import { ALL_ADDRESSES, ipBlockAddresses, parseAddress } from './addresses.ts';
import { DEFAULT_OPTIONS, type Endpoint, type EngineOptions, isOutsidePolicy } from './endpoint.ts';
import { contains, type IntervalSet, normalize, union } from './intervals.ts';
import {
  ALL_PORTS,
  intersectPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  portsKey,
  unionPorts,
} from './ports.ts';
import { selectorMatches } from './selectors.ts';

/** Pods that no selector, named port or ipBlock in the input can tell apart: they share every answer. */
export interface PodClass {
  id: number;
  namespace: string;
  labels: Labels;
  namedPorts: readonly NamedPort[];
  /** hostNetwork pods when the options put them outside NetworkPolicy. */
  hostNetwork: boolean;
  /** The IPs of one member; all members' IPs fall in the same ipBlock pieces. */
  ips: readonly string[];
  pods: Pod[];
}

interface CompiledRule {
  policy: NetworkPolicy;
  rule: PolicyRule;
  /** Classes the rule's peers admit; undefined when the rule names no peers and so admits everything. */
  classes?: ReadonlySet<number>;
  /** Classes admitted only because an ipBlock covers their IPs (the ipblock-matches-pods choice). */
  classesByIpBlock: ReadonlySet<number>;
  /** External addresses the rule's peers admit. */
  addresses: IntervalSet<bigint>;
  /** The rule's ports when it names no port by name, the same for every destination. */
  numericPorts?: PortSet;
}

/** Why one direction of a connection is allowed or not. */
export interface SideExplanation {
  /** The subject is a hostNetwork pod, outside NetworkPolicy. */
  hostNetwork: boolean;
  /** Policies that select the subject for this direction; empty when it is not isolated. */
  isolatedBy: NetworkPolicy[];
  admittedBy: { policy: NetworkPolicy; rule: PolicyRule; ports: PortSet; byIpBlock: boolean }[];
  ports: PortSet;
}

/** What one class grants a peer class: all its ports, and those granted without an ipBlock matching a pod. */
interface Grant {
  ports: PortSet;
  withoutPodIpBlocks: PortSet;
}

type Row = { kind: 'all' } | { kind: 'rules'; grants: Map<number, Grant> };

/**
 * The fast engine: evaluates NetworkPolicies once per pod class, with port and address interval sets,
 * and caches each class's egress row and ingress column.
 */
export class Engine {
  readonly classes: PodClass[] = [];
  private readonly classByPod = new Map<Pod, PodClass>();
  private readonly rulesByPolicy = new Map<
    NetworkPolicy,
    { ingress: CompiledRule[]; egress: CompiledRule[] }
  >();
  private readonly isolation = new Map<string, NetworkPolicy[]>();
  private readonly rows = new Map<string, Row>();

  constructor(
    readonly snapshot: Snapshot,
    readonly options: EngineOptions = DEFAULT_OPTIONS,
  ) {
    this.buildClasses();
    for (const policy of snapshot.policies) {
      this.rulesByPolicy.set(policy, {
        ingress: policy.ingress.map((rule) => this.compileRule(policy, rule)),
        egress: policy.egress.map((rule) => this.compileRule(policy, rule)),
      });
    }
  }

  classOf(pod: Pod): PodClass {
    const found = this.classByPod.get(pod);
    if (!found) throw new Error(`pod ${pod.namespace}/${pod.name} is not part of this snapshot`);
    return found;
  }

  /** Ports on which `src` may open connections to `dst`. */
  portsBetween(src: Pod, dst: Pod): PortSet {
    if (src === dst) return ALL_PORTS;
    return this.classPorts(this.classOf(src), this.classOf(dst)).ports;
  }

  /** Ports allowed between two classes, and whether the answer rests on ipBlocks matching pod IPs. */
  classPorts(src: PodClass, dst: PodClass): { ports: PortSet; byIpBlock: boolean } {
    const egress = this.grant(this.row(src, 'egress'), dst.id);
    const ingress = this.grant(this.row(dst, 'ingress'), src.id);
    const ports = intersectPorts(egress.ports, ingress.ports);
    // The answer rests on the ipblock-matches-pods choice exactly when it would differ without it.
    const withoutPodIpBlocks = intersectPorts(egress.withoutPodIpBlocks, ingress.withoutPodIpBlocks);
    return { ports, byIpBlock: portsKey(ports) !== portsKey(withoutPodIpBlocks) };
  }

  /** External addresses a class may reach (egress) or be reached from (ingress), grouped by ports. */
  externalPorts(subject: PodClass, direction: Direction): AddressPorts[] {
    if (this.isIsolating(subject, direction).length === 0)
      return [{ addresses: ALL_ADDRESSES, ports: ALL_PORTS }];
    const grants = this.compiledRulesFor(subject, direction).map((compiled) => ({
      addresses: compiled.addresses,
      // Egress named ports resolve on the destination, and an external address has none.
      ports: direction === 'egress' ? this.rulePorts(compiled, undefined) : this.rulePorts(compiled, subject),
    }));
    return partitionByPorts(grants);
  }

  /** Every rule that takes part in the verdict for one direction of src → dst. */
  explainSide(subject: Pod, peer: Endpoint, direction: Direction): SideExplanation {
    const subjectClass = this.classOf(subject);
    if (subjectClass.hostNetwork)
      return { hostNetwork: true, isolatedBy: [], admittedBy: [], ports: ALL_PORTS };
    const isolatedBy = this.isIsolating(subjectClass, direction);
    if (isolatedBy.length === 0) return { hostNetwork: false, isolatedBy, admittedBy: [], ports: ALL_PORTS };
    const peerClass = 'pod' in peer ? this.classOf(peer.pod) : undefined;
    const peerAddress = 'ip' in peer ? parseAddress(peer.ip) : undefined;
    const destination = direction === 'ingress' ? subjectClass : peerClass;
    const admittedBy: SideExplanation['admittedBy'] = [];
    for (const compiled of this.compiledRulesFor(subjectClass, direction)) {
      const admits = peerClass
        ? compiled.classes === undefined || compiled.classes.has(peerClass.id)
        : peerAddress !== undefined && contains(compiled.addresses, peerAddress);
      if (!admits) continue;
      const ports = this.rulePorts(compiled, destination);
      const byIpBlock = peerClass !== undefined && compiled.classesByIpBlock.has(peerClass.id);
      admittedBy.push({ policy: compiled.policy, rule: compiled.rule, ports, byIpBlock });
    }
    const ports = admittedBy.reduce((acc, entry) => unionPorts(acc, entry.ports), NO_PORTS);
    return { hostNetwork: false, isolatedBy, admittedBy, ports };
  }

  private buildClasses(): void {
    const cuts = this.options.ipBlockMatchesPods ? this.ipBlockCuts() : [];
    const byKey = new Map<string, PodClass>();
    for (const pod of this.snapshot.pods) {
      const regions = pod.ips.map((ip) => upperBound(cuts, parseAddress(ip) as bigint)).sort((a, b) => a - b);
      const ports = pod.namedPorts.map((p) => `${p.name}/${p.protocol}/${p.port}`).sort();
      const labels = Object.entries(pod.labels).sort(([a], [b]) => (a < b ? -1 : 1));
      const hostNetwork = isOutsidePolicy(pod, this.options);
      const key = JSON.stringify([pod.namespace, labels, ports, hostNetwork, regions]);
      let podClass = byKey.get(key);
      if (!podClass) {
        podClass = {
          id: this.classes.length,
          namespace: pod.namespace,
          labels: pod.labels,
          namedPorts: pod.namedPorts,
          hostNetwork,
          ips: pod.ips,
          pods: [],
        };
        byKey.set(key, podClass);
        this.classes.push(podClass);
      }
      podClass.pods.push(pod);
      this.classByPod.set(pod, podClass);
    }
  }

  /** Every boundary of every ipBlock piece, sorted: pods between two cuts match the same ipBlocks. */
  private ipBlockCuts(): bigint[] {
    const cuts = new Set<bigint>();
    for (const policy of this.snapshot.policies) {
      for (const rule of [...policy.ingress, ...policy.egress]) {
        for (const peer of rule.peers ?? []) {
          if (peer.kind !== 'ipBlock') continue;
          for (const [lo, hi] of ipBlockAddresses(peer.ipBlock)) {
            cuts.add(lo);
            cuts.add(hi + 1n);
          }
        }
      }
    }
    return [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private compileRule(policy: NetworkPolicy, rule: PolicyRule): CompiledRule {
    const numericPorts = rule.ports?.some((p) => typeof p.port === 'string')
      ? undefined
      : portsOf(rule.ports, undefined);
    if (rule.peers === undefined) {
      return { policy, rule, classesByIpBlock: new Set(), addresses: ALL_ADDRESSES, numericPorts };
    }
    const classes = new Set<number>();
    const bySelector = new Set<number>();
    let addresses: IntervalSet<bigint> = [];
    for (const peer of rule.peers) {
      if (peer.kind === 'ipBlock') {
        const block = ipBlockAddresses(peer.ipBlock);
        addresses = union(addresses, block);
        if (!this.options.ipBlockMatchesPods) continue;
        for (const podClass of this.classes) {
          if (podClass.ips.some((ip) => contains(block, parseAddress(ip) as bigint)))
            classes.add(podClass.id);
        }
        continue;
      }
      const namespaces = this.matchingNamespaces(policy, peer.namespaceSelector);
      for (const podClass of this.classes) {
        if (podClass.hostNetwork || !namespaces.has(podClass.namespace)) continue;
        if (peer.podSelector && !selectorMatches(peer.podSelector, podClass.labels)) continue;
        classes.add(podClass.id);
        bySelector.add(podClass.id);
      }
    }
    const classesByIpBlock = new Set([...classes].filter((id) => !bySelector.has(id)));
    return { policy, rule, classes, classesByIpBlock, addresses: normalize(addresses), numericPorts };
  }

  private matchingNamespaces(policy: NetworkPolicy, selector: LabelSelector | undefined): Set<string> {
    if (!selector) return new Set([policy.namespace]);
    const names = new Set<string>();
    for (const namespace of this.snapshot.namespaces.values()) {
      if (selectorMatches(selector, namespace.labels)) names.add(namespace.name);
    }
    return names;
  }

  private isIsolating(subject: PodClass, direction: Direction): NetworkPolicy[] {
    const key = `${direction}:${subject.id}`;
    let policies = this.isolation.get(key);
    if (!policies) {
      policies = subject.hostNetwork
        ? []
        : this.snapshot.policies.filter(
            (policy) =>
              policy.namespace === subject.namespace &&
              policy.isolates[direction] &&
              selectorMatches(policy.podSelector, subject.labels),
          );
      this.isolation.set(key, policies);
    }
    return policies;
  }

  private compiledRulesFor(subject: PodClass, direction: Direction): CompiledRule[] {
    return this.isIsolating(subject, direction).flatMap(
      (policy) => this.rulesByPolicy.get(policy)?.[direction] ?? [],
    );
  }

  private rulePorts(compiled: CompiledRule, destination: PodClass | undefined): PortSet {
    return compiled.numericPorts ?? portsOf(compiled.rule.ports, destination);
  }

  /** The ports a class grants to each peer class in one direction, built by walking its rules' peers once. */
  private row(subject: PodClass, direction: Direction): Row {
    const key = `${direction}:${subject.id}`;
    const cached = this.rows.get(key);
    if (cached) return cached;
    let row: Row;
    if (this.isIsolating(subject, direction).length === 0) {
      row = { kind: 'all' };
    } else {
      const grants = new Map<number, Grant>();
      for (const compiled of this.compiledRulesFor(subject, direction)) {
        const peers = compiled.classes ?? this.classes.map((c) => c.id);
        for (const peerId of peers) {
          const destination = direction === 'ingress' ? subject : (this.classes[peerId] as PodClass);
          const ports = this.rulePorts(compiled, destination);
          const bySelector = compiled.classesByIpBlock.has(peerId) ? NO_PORTS : ports;
          const previous = grants.get(peerId);
          grants.set(
            peerId,
            previous
              ? {
                  ports: unionPorts(previous.ports, ports),
                  withoutPodIpBlocks: unionPorts(previous.withoutPodIpBlocks, bySelector),
                }
              : { ports, withoutPodIpBlocks: bySelector },
          );
        }
      }
      row = { kind: 'rules', grants };
    }
    this.rows.set(key, row);
    return row;
  }

  private grant(row: Row, peerId: number): Grant {
    if (row.kind === 'all') return { ports: ALL_PORTS, withoutPodIpBlocks: ALL_PORTS };
    return row.grants.get(peerId) ?? { ports: NO_PORTS, withoutPodIpBlocks: NO_PORTS };
  }
}

/** A rule's ports as a set; named ports resolve on `destination` (by name and protocol), or match nothing. */
function portsOf(ports: readonly PolicyPort[] | undefined, destination: PodClass | undefined): PortSet {
  if (ports === undefined) return ALL_PORTS;
  let set = NO_PORTS;
  for (const p of ports) {
    let ranges: IntervalSet<number>;
    if (p.port === undefined) ranges = [[1, 65535]];
    else if (typeof p.port === 'number') ranges = [[p.port, p.endPort ?? p.port]];
    else {
      const name = p.port;
      ranges = normalize(
        (destination?.namedPorts ?? [])
          .filter((named) => named.name === name && named.protocol === p.protocol)
          .map((named) => [named.port, named.port] as const),
      );
    }
    set = unionPorts(set, portSetOf(p.protocol, ranges));
  }
  return set;
}

/** Number of cuts at or below `value`: the index of the piece `value` falls in. */
function upperBound(cuts: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cuts[mid] as bigint) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
