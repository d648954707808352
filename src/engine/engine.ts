import type { Direction, NetworkPolicy, Pod, PolicyRule, Snapshot } from '../model/types.ts';
import { type AddressPorts, partitionByPorts } from './address-partition.ts';
import { ALL_ADDRESSES, parseAddress } from './addresses.ts';
import { type CompiledRule, compileRule, portsOf } from './compile.ts';
import { DEFAULT_OPTIONS, type Endpoint, type EngineOptions } from './endpoint.ts';
import { contains } from './intervals.ts';
import { PeerMatcher } from './peer-matcher.ts';
import { groupPodClasses, ipBlockCuts, type PodClass } from './pod-classes.ts';
import {
  ALL_PORTS,
  equalPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  unionPorts,
} from './ports.ts';

export type { PodClass } from './pod-classes.ts';

/** Why one direction of a connection is allowed or not. */
export interface SideExplanation {
  /** The subject is a hostNetwork pod, outside NetworkPolicy. */
  hostNetwork: boolean;
  /** Policies that select the subject for this direction; empty when it is not isolated. */
  isolatedBy: NetworkPolicy[];
  admittedBy: { policy: NetworkPolicy; rule: PolicyRule; ports: PortSet; byIpBlock: boolean }[];
  ports: PortSet;
}

/** Ports allowed from one class to another, and whether the answer rests on ipBlocks matching pod IPs. */
export interface ClassPairPorts {
  src: PodClass;
  dst: PodClass;
  ports: PortSet;
  byIpBlock: boolean;
}

/**
 * How a class is isolated in one direction. Grants are read from the rules themselves (each knows the
 * peer classes it admits), so no per-peer table is built: rows cost what the rules cost.
 */
interface Row {
  /** Not isolated in this direction: everything is allowed. */
  open: boolean;
  /** The rules of the policies that isolate the class in this direction. */
  rules: CompiledRule[];
  /** Some rule admits a peer only through an ipBlock covering its IPs. */
  byIpBlock: boolean;
}

const OPEN_ROW: Row = { open: true, rules: [], byIpBlock: false };

/**
 * The fast engine: evaluates NetworkPolicies once per pod class (see pod-classes.ts), with port and
 * address interval sets; each class's egress row and ingress column are built lazily and cached, and
 * a policy change recomputes only the classes it selects.
 */
export class Engine {
  readonly classes: PodClass[];
  private readonly classByPod: Map<Pod, PodClass>;
  private readonly matcher: PeerMatcher;
  private readonly cuts: ReadonlySet<bigint>;
  private policies: NetworkPolicy[];
  /** Built on demand, dropped when a policy changes. */
  private policiesByNamespace: Map<string, NetworkPolicy[]> | undefined;
  private readonly compiled = new Map<NetworkPolicy, Record<Direction, CompiledRule[]>>();
  private readonly isolation: Record<Direction, NetworkPolicy[][]>;
  private readonly rows: Record<Direction, (Row | undefined)[]>;
  /** Named-port rules resolved per destination shape: rule id → named-ports id → ports. */
  private readonly rulePortsCache = new Map<number, PortSet[]>();
  private readonly externalCache = new Map<string, AddressPorts[]>();
  private nextRuleId = 0;

  constructor(
    readonly snapshot: Snapshot,
    readonly options: EngineOptions = DEFAULT_OPTIONS,
  ) {
    const cuts = options.ipBlockMatchesPods ? ipBlockCuts(snapshot.policies) : [];
    this.cuts = new Set(cuts);
    ({ classes: this.classes, classByPod: this.classByPod } = groupPodClasses(snapshot.pods, cuts, options));
    this.matcher = new PeerMatcher(snapshot.namespaces, this.classes);
    this.policies = [...snapshot.policies];
    this.isolation = { ingress: this.classes.map(() => []), egress: this.classes.map(() => []) };
    this.rows = { ingress: [], egress: [] };
    for (const policy of this.policies) this.compilePolicy(policy);
    for (const podClass of this.classes) this.indexIsolation(podClass);
  }

  classOf(pod: Pod): PodClass {
    const found = this.classByPod.get(pod);
    if (!found) throw new Error(`pod ${pod.namespace}/${pod.name} is not part of this snapshot`);
    return found;
  }

  /** The NetworkPolicies the engine currently evaluates (the snapshot's, after any replacePolicy). */
  get currentPolicies(): readonly NetworkPolicy[] {
    return this.policies;
  }

  /** Ports on which `src` may open connections to `dst`. */
  portsBetween(src: Pod, dst: Pod): PortSet {
    if (src === dst) return ALL_PORTS;
    const from = this.classOf(src);
    const to = this.classOf(dst);
    return intersectPorts(
      this.grant(this.row(from, 'egress'), to, to, true),
      this.grant(this.row(to, 'ingress'), to, from, true),
    );
  }

  classPorts(src: PodClass, dst: PodClass): ClassPairPorts {
    const egressRow = this.row(src, 'egress');
    const ingressRow = this.row(dst, 'ingress');
    const ports = intersectPorts(
      this.grant(egressRow, dst, dst, true),
      this.grant(ingressRow, dst, src, true),
    );
    const mayDepend =
      (egressRow.byIpBlock && admitsOnlyByIpBlock(egressRow, dst)) ||
      (ingressRow.byIpBlock && admitsOnlyByIpBlock(ingressRow, src));
    if (!mayDepend) return { src, dst, ports, byIpBlock: false };
    // The answer rests on the ipblock-matches-pods choice exactly when it would differ without it.
    const without = intersectPorts(
      this.grant(egressRow, dst, dst, false),
      this.grant(ingressRow, dst, src, false),
    );
    return { src, dst, ports, byIpBlock: !equalPorts(ports, without) };
  }

  /**
   * Every class pair with something allowed. Candidates come from the rows (and, for sources that may
   * send anywhere, from the classes that admit them), never from all K² pairs.
   */
  *allowedClassPairs(): Generator<ClassPairPorts> {
    const seen = new Int32Array(this.classes.length).fill(-1);
    let admitting: { everyone: number[]; from: Map<number, CompiledRule[]> } | undefined;
    for (const src of this.classes) {
      const row = this.row(src, 'egress');
      const lists: Iterable<number>[] = [];
      if (row.open || row.rules.some((r) => !r.classes)) {
        admitting ??= this.ingressAdmission();
        lists.push(admitting.everyone);
        for (const rule of admitting.from.get(src.id) ?? []) lists.push(this.matcher.selectedBy(rule.policy));
      }
      for (const rule of row.rules) if (rule.classes) lists.push(rule.classes);
      for (const list of lists) {
        for (const dstId of list) {
          if (seen[dstId] === src.id) continue;
          seen[dstId] = src.id;
          const pair = this.classPorts(src, this.classes[dstId] as PodClass);
          if (!isEmptyPorts(pair.ports)) yield pair;
        }
      }
    }
  }

  /**
   * For sources that may send anywhere: the classes that admit every source, and for each source the
   * ingress rules that name it (their policies' subjects are the candidates).
   */
  private ingressAdmission(): { everyone: number[]; from: Map<number, CompiledRule[]> } {
    const everyone = this.classes
      .filter((c) => {
        const row = this.row(c, 'ingress');
        return row.open || row.rules.some((r) => !r.classes);
      })
      .map((c) => c.id);
    const from = new Map<number, CompiledRule[]>();
    for (const [policy, rules] of this.compiled) {
      if (!policy.isolates.ingress) continue;
      for (const rule of rules.ingress) {
        for (const srcId of rule.classes ?? []) {
          const list = from.get(srcId);
          if (list) list.push(rule);
          else from.set(srcId, [rule]);
        }
      }
    }
    return { everyone, from };
  }

  /**
   * One key per class, equal for classes that every rule treats alike both as subject (isolated by
   * rules of the same meaning) and as peer (admitted by the same rules): such classes have the same
   * connectivity to everything, so a large answer can be shown once per group.
   */
  behaviourKeys(): string[] {
    const memberships: string[][] = this.classes.map(() => []);
    const ruleMeaning = new Map<CompiledRule, string>();
    for (const rules of this.compiled.values()) {
      for (const compiled of [...rules.ingress, ...rules.egress]) {
        const peers = compiled.classes ? [...compiled.classes].sort((a, b) => a - b).join(',') : '*';
        const addresses = compiled.addresses.map(([lo, hi]) => `${lo}-${hi}`).join(',');
        ruleMeaning.set(
          compiled,
          `${peers}/${[...compiled.classesByIpBlock].join(',')}/${addresses}/${JSON.stringify(compiled.rule.ports ?? null)}`,
        );
        for (const id of compiled.classes ?? []) memberships[id]?.push(`${compiled.id}`);
      }
    }
    return this.classes.map((c) => {
      const side = (direction: Direction) => {
        const row = this.row(c, direction);
        return row.open
          ? 'open'
          : row.rules
              .map((r) => ruleMeaning.get(r))
              .sort()
              .join(';');
      };
      return JSON.stringify([
        c.hostNetwork,
        c.namedPortsId,
        side('egress'),
        side('ingress'),
        memberships[c.id],
      ]);
    });
  }

  /** External addresses a class may reach (egress) or be reached from (ingress), grouped by ports. */
  externalPorts(subject: PodClass, direction: Direction): AddressPorts[] {
    const { open, rules } = this.row(subject, direction);
    if (open) return [{ addresses: ALL_ADDRESSES, ports: ALL_PORTS }];
    // Classes isolated by the same rules share the answer, unless a named port resolves differently.
    const namedPorts =
      direction === 'ingress' && rules.some((r) => !r.numericPorts) ? subject.namedPortsId : '';
    const key = `${direction}:${rules.map((r) => r.id).join(',')}:${namedPorts}`;
    let result = this.externalCache.get(key);
    if (!result) {
      const grants = rules.map((compiled) => ({
        addresses: compiled.addresses,
        // Egress named ports resolve on the destination, and an external address has none.
        ports: this.rulePorts(compiled, direction === 'egress' ? undefined : subject),
      }));
      result = partitionByPorts(grants);
      this.externalCache.set(key, result);
    }
    return result;
  }

  /** Every rule that takes part in the verdict for one direction of src → dst. */
  explainSide(subject: Pod, peer: Endpoint, direction: Direction): SideExplanation {
    const subjectClass = this.classOf(subject);
    if (subjectClass.hostNetwork)
      return { hostNetwork: true, isolatedBy: [], admittedBy: [], ports: ALL_PORTS };
    const isolatedBy = this.isolation[direction][subjectClass.id] ?? [];
    if (isolatedBy.length === 0) return { hostNetwork: false, isolatedBy, admittedBy: [], ports: ALL_PORTS };
    const peerClass = 'pod' in peer ? this.classOf(peer.pod) : undefined;
    const peerAddress = 'ip' in peer ? parseAddress(peer.ip) : undefined;
    const destination = direction === 'ingress' ? subjectClass : peerClass;
    const admittedBy: SideExplanation['admittedBy'] = [];
    for (const compiled of this.row(subjectClass, direction).rules) {
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

  /**
   * Applies one policy change (added, changed or deleted) and returns the class pairs whose allowed
   * ports changed. Only the classes the policy selects, before or after, are recomputed. A new ipBlock
   * edge that could split pod classes needs a fresh Engine: `rebuild` is then true and nothing changed.
   */
  replacePolicy(
    before: NetworkPolicy | undefined,
    after: NetworkPolicy | undefined,
  ): { rebuild: boolean; changed: ClassPairPorts[] } {
    if (after && this.options.ipBlockMatchesPods && ipBlockCuts([after]).some((cut) => !this.cuts.has(cut))) {
      return { rebuild: true, changed: [] };
    }
    const affected = new Set([
      ...(before ? this.matcher.selectedBy(before) : []),
      ...(after ? this.matcher.selectedBy(after) : []),
    ]);
    const candidates: [number, number][] = [];
    const previous = new Map<string, PortSet>();
    // A pair first met in a row rebuilt after the change was granted nothing before it: had the old row
    // been open or had peerless rules, every class would have been met before the change.
    const touchRows = (before: boolean) => {
      for (const id of affected) {
        const subject = this.classes[id] as PodClass;
        const pairs: [number, number][] = [
          ...[...this.peersOfRow(subject, 'egress')].map((peerId): [number, number] => [id, peerId]),
          ...[...this.peersOfRow(subject, 'ingress')].map((peerId): [number, number] => [peerId, id]),
        ];
        for (const [srcId, dstId] of pairs) {
          const key = `${srcId}:${dstId}`;
          if (previous.has(key)) continue;
          const ports = before
            ? this.classPorts(this.classes[srcId] as PodClass, this.classes[dstId] as PodClass).ports
            : NO_PORTS;
          previous.set(key, ports);
          candidates.push([srcId, dstId]);
        }
      }
    };
    touchRows(true);
    const at = before ? this.policies.indexOf(before) : -1;
    if (before) this.compiled.delete(before);
    if (after) this.compilePolicy(after);
    if (at >= 0 && after) this.policies[at] = after;
    else if (at >= 0) this.policies.splice(at, 1);
    else if (after) this.policies.push(after);
    this.policiesByNamespace = undefined;
    for (const id of affected) {
      this.indexIsolation(this.classes[id] as PodClass);
      this.rows.egress[id] = undefined;
      this.rows.ingress[id] = undefined;
    }
    this.externalCache.clear();
    touchRows(false);
    const changed: ClassPairPorts[] = [];
    for (const [srcId, dstId] of candidates) {
      const now = this.classPorts(this.classes[srcId] as PodClass, this.classes[dstId] as PodClass);
      if (!equalPorts(now.ports, previous.get(`${srcId}:${dstId}`) as PortSet)) changed.push(now);
    }
    return { rebuild: false, changed };
  }

  /** Peers a class's row can grant something to: every class when it is open or has peerless rules. */
  private peersOfRow(subject: PodClass, direction: Direction): Iterable<number> {
    const row = this.row(subject, direction);
    if (row.open || row.rules.some((r) => !r.classes)) return this.classes.map((c) => c.id);
    return new Set(row.rules.flatMap((r) => [...(r.classes ?? [])]));
  }

  private compilePolicy(policy: NetworkPolicy): void {
    const compile = (rule: PolicyRule) =>
      compileRule(this.nextRuleId++, policy, rule, this.matcher, this.options);
    this.compiled.set(policy, { ingress: policy.ingress.map(compile), egress: policy.egress.map(compile) });
  }

  /** Which policies isolate a class, in input order (so explanations read in the order written). */
  private indexIsolation(subject: PodClass): void {
    const ingress: NetworkPolicy[] = [];
    const egress: NetworkPolicy[] = [];
    if (!subject.hostNetwork) {
      for (const policy of this.policiesIn(subject.namespace)) {
        if (!this.matcher.selectedBy(policy).includes(subject.id)) continue;
        if (policy.isolates.ingress) ingress.push(policy);
        if (policy.isolates.egress) egress.push(policy);
      }
    }
    this.isolation.ingress[subject.id] = ingress;
    this.isolation.egress[subject.id] = egress;
  }

  private policiesIn(namespace: string): readonly NetworkPolicy[] {
    if (!this.policiesByNamespace) {
      this.policiesByNamespace = new Map();
      for (const policy of this.policies) {
        const list = this.policiesByNamespace.get(policy.namespace);
        if (list) list.push(policy);
        else this.policiesByNamespace.set(policy.namespace, [policy]);
      }
    }
    return this.policiesByNamespace.get(namespace) ?? [];
  }

  private rulePorts(compiled: CompiledRule, destination: PodClass | undefined): PortSet {
    if (compiled.numericPorts) return compiled.numericPorts;
    let byShape = this.rulePortsCache.get(compiled.id);
    if (!byShape) {
      byShape = [];
      this.rulePortsCache.set(compiled.id, byShape);
    }
    // Slot 0 is "no destination" (an external address); classes use their named-ports id + 1.
    const slot = destination ? destination.namedPortsId + 1 : 0;
    let ports = byShape[slot];
    if (!ports) {
      ports = portsOf(compiled.rule.ports, destination);
      byShape[slot] = ports;
    }
    return ports;
  }

  private row(subject: PodClass, direction: Direction): Row {
    const cached = this.rows[direction][subject.id];
    if (cached) return cached;
    let row = OPEN_ROW;
    const isolatedBy = this.isolation[direction][subject.id] ?? [];
    if (isolatedBy.length > 0) {
      const rules = isolatedBy.flatMap((policy) => this.compiled.get(policy)?.[direction] ?? []);
      row = { open: false, rules, byIpBlock: rules.some((r) => r.classesByIpBlock.size > 0) };
    }
    this.rows[direction][subject.id] = row;
    return row;
  }

  /**
   * The ports a row's rules grant `peer`; named ports resolve on `destination`. Without
   * `withPodIpBlocks`, rules that admit the peer only through an ipBlock are left out.
   */
  private grant(row: Row, destination: PodClass, peer: PodClass, withPodIpBlocks: boolean): PortSet {
    if (row.open) return ALL_PORTS;
    let ports = NO_PORTS;
    const { rules } = row;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      if (rule.classes && !rule.classes.has(peer.id)) continue;
      if (!withPodIpBlocks && rule.classesByIpBlock.has(peer.id)) continue;
      ports = unionPorts(ports, rule.numericPorts ?? this.rulePorts(rule, destination));
    }
    return ports;
  }
}

function admitsOnlyByIpBlock(row: Row, peer: PodClass): boolean {
  return row.rules.some((rule) => rule.classesByIpBlock.has(peer.id));
}
