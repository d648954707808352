import {
  type ClusterPolicy,
  clusterPolicyOrder,
  type Direction,
  differsInPoliciesAlone,
  type NetworkPolicy,
  type Pod,
  type PolicyRule,
  type Snapshot,
} from '../model/types.ts';
import { type AddressPorts, partitionAddresses, partitionByPorts } from './address-partition.ts';
import { ALL_ADDRESSES, ipBlockAddresses, parseAddress } from './addresses.ts';
import { CalicoAdapter, calicoCuts } from './calico/adapter.ts';
import { CiliumAdapter } from './cilium/adapter.ts';
import { ciliumNodes, peerCidrs, selectorLabels } from './cilium/identity.ts';
import {
  type CompiledClusterRule,
  type CompiledRule,
  clusterPortsOf,
  compileClusterRule,
  compileRule,
  portsOf,
} from './compile.ts';
import { DEFAULT_OPTIONS, type Endpoint, type EngineOptions } from './endpoint.ts';
import { contains, type IntervalSet } from './intervals.ts';
import {
  ADMIN_LEVEL,
  BASELINE_LEVEL,
  isKindRule,
  type KindPolicy,
  type KindRule,
  NETWORK_POLICY_LEVEL,
  NETWORK_POLICY_ORDER,
  type TierAction,
} from './kind-rules.ts';
import { PeerMatcher } from './peer-matcher.ts';
import { clusterAddressCuts, cutsOf, groupPodClasses, ipBlockCuts, type PodClass } from './pod-classes.ts';
import {
  ALL_PORTS,
  equalPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  unionPorts,
} from './ports.ts';
import { type TierLevel, type TierMatch, type TierStep, walkTiers } from './tiers.ts';

export type { PodClass } from './pod-classes.ts';

/** Why one direction of a connection is allowed or not. */
export interface SideExplanation {
  /** The subject is a hostNetwork pod, outside NetworkPolicy. */
  hostNetwork: boolean;
  /** Policies that select the subject for this direction; empty when it is not isolated. */
  isolatedBy: NetworkPolicy[];
  admittedBy: { policy: NetworkPolicy; rule: PolicyRule; ports: PortSet; byIpBlock: boolean }[];
  /**
   * Which tier decided which ports, in evaluation order, when Admin- or Baseline-tier policies select
   * the subject in this direction; empty otherwise (NetworkPolicy alone decides).
   */
  tiers: TierStep<CompiledClusterRule>[];
  /** Every decision of the tier walk in evaluation order, every kind's; empty when it was not walked. */
  chain: TierStep<TierRule>[];
  /** Rules of other policy kinds (Cilium) that decided ports, in evaluation order. */
  kindSteps: { rule: KindRule; action: TierAction; ports: PortSet }[];
  /** Policies of other kinds that isolate the subject in this direction. */
  kindIsolatedBy: KindPolicy[];
  /** Policies of other kinds whose rules apply to the subject in this direction but that do not isolate it. */
  kindNotIsolating?: KindPolicy[];
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
  /** Neither isolated nor subject to any Admin- or Baseline-tier rule: everything is allowed. */
  open: boolean;
  /** Some NetworkPolicy isolates the class in this direction. */
  isolated: boolean;
  /** The rules of the policies that isolate the class in this direction. */
  rules: CompiledRule[];
  /** Some rule admits a peer only through an ipBlock covering its IPs. */
  byIpBlock: boolean;
  /** The Admin- and Baseline-tier rules of the policies whose subject is the class, in evaluation order. */
  admin: CompiledClusterRule[];
  baseline: CompiledClusterRule[];
  /** Rules of other policy kinds, by level (ascending), and whether a policy of the level isolates the class. */
  levels: RowLevel[];
  /** Policies of other kinds that isolate the class in this direction. */
  kindIsolatedBy: KindPolicy[];
  /** Policies of other kinds whose rules apply to the class in this direction but that do not isolate it. */
  kindNotIsolating: KindPolicy[];
}

interface RowLevel {
  level: number;
  tier: string;
  rules: KindRule[];
  isolates: boolean;
}

/** Shared by the rows of classes no Calico or Cilium policy selects (most, in most clusters). */
const NO_LEVELS: RowLevel[] = [];

const OPEN_ROW: Row = {
  open: true,
  isolated: false,
  rules: [],
  byIpBlock: false,
  admin: [],
  baseline: [],
  levels: [],
  kindIsolatedBy: [],
  kindNotIsolating: [],
};

/** Some level isolates the class and nothing passes it on: only what a rule allows gets through. */
function closed(row: Row): boolean {
  // A level with Pass rules may hand a peer on past its end, so only a level without them closes the row.
  const passes = (l: RowLevel) => l.rules.some((r) => r.action === 'Pass');
  const networkPolicyPasses = row.levels.some((l) => l.level === NETWORK_POLICY_LEVEL && passes(l));
  return (row.isolated && !networkPolicyPasses) || row.levels.some((l) => l.isolates && !passes(l));
}

/** Whether some peer may be allowed whatever its identity: open, not isolated, or a rule naming no peers. */
function mayAdmitAnyone(row: Row): boolean {
  return row.open || !closed(row) || row.rules.some((r) => !r.classes);
}

/** Whether the row needs the tier walk rather than NetworkPolicy's union of grants. */
function tiered(row: Row): boolean {
  return row.admin.length > 0 || row.baseline.length > 0 || row.levels.length > 0;
}

export type TierRule = CompiledClusterRule | KindRule;

/** Up to this many peers, replacePolicy weighs a row's own peers without asking who grants the class. */
const SHORT_PARTNER_LIST = 256;

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
  private readonly clusterCompiled = new Map<ClusterPolicy, Record<Direction, CompiledClusterRule[]>>();
  private readonly isolation: Record<Direction, NetworkPolicy[][]>;
  private readonly rows: Record<Direction, (Row | undefined)[]>;
  /** Named-port rules resolved per destination shape: rule id → named-ports id → ports. */
  private readonly rulePortsCache = new Map<number, PortSet[]>();
  private readonly externalCache = new Map<string, AddressPorts[]>();
  /** Policies of other kinds (Cilium), compiled by their adapters. */
  private readonly kindPolicies: KindPolicy[];
  private nextRuleId = 0;
  private input: Snapshot;

  /** The input the engine answers for (after `rebase`, the one its policy changes came from). */
  get snapshot(): Snapshot {
    return this.input;
  }

  constructor(
    snapshot: Snapshot,
    readonly options: EngineOptions = DEFAULT_OPTIONS,
  ) {
    this.input = snapshot;
    const policyCuts = options.ipBlockMatchesPods ? ipBlockCuts(snapshot.policies) : [];
    this.cuts = new Set(policyCuts);
    const cuts = [
      ...new Set([
        ...policyCuts,
        ...clusterAddressCuts(snapshot.clusterPolicies, snapshot.nodes),
        ...ciliumCuts(snapshot),
        ...(snapshot.calico ? cutsOf(calicoCuts(snapshot.calico)) : []),
      ]),
    ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const labelsOf = options.ciliumIdentity
      ? (pod: Pod) => selectorLabels(pod, snapshot.namespaces.get(pod.namespace)?.labels ?? {})
      : undefined;
    ({ classes: this.classes, classByPod: this.classByPod } = groupPodClasses(
      snapshot.pods,
      cuts,
      options,
      labelsOf,
    ));
    this.matcher = new PeerMatcher(snapshot.namespaces, this.classes, snapshot.nodes);
    this.policies = [...snapshot.policies];
    // Inserted in evaluation order (tier, then priority), which rows keep.
    const clusterPolicies = [
      ...snapshot.clusterPolicies.filter((p) => p.tier === 'Admin').sort(clusterPolicyOrder),
      ...snapshot.clusterPolicies.filter((p) => p.tier === 'Baseline').sort(clusterPolicyOrder),
    ];
    for (const policy of clusterPolicies) {
      const compile = (rule: ClusterPolicy['ingress'][number]) =>
        compileClusterRule(this.nextRuleId++, policy, rule, this.matcher);
      this.clusterCompiled.set(policy, {
        ingress: policy.ingress.map(compile),
        egress: policy.egress.map(compile),
      });
    }
    const nextId = () => this.nextRuleId++;
    this.kindPolicies = [
      ...(snapshot.ciliumPolicies.length > 0
        ? new CiliumAdapter(snapshot, this.classes).compile(nextId)
        : []),
      ...(snapshot.calico
        ? new CalicoAdapter(snapshot, snapshot.calico, this.classes, options, nextId).compile()
        : []),
    ];
    this.isolation = { ingress: this.classes.map(() => []), egress: this.classes.map(() => []) };
    this.rows = { ingress: [], egress: [] };
    for (const policy of this.policies) this.compilePolicy(policy);
    for (const podClass of this.classes) this.indexIsolation(podClass);
  }

  /** The compiled Admin- and Baseline-tier rules, in evaluation order, with each policy's subject classes. */
  *clusterRules(): Generator<{ compiled: CompiledClusterRule; subjects: ReadonlySet<number> }> {
    for (const [policy, rules] of this.clusterCompiled) {
      const subjects = this.matcher.clusterSubject(policy);
      for (const compiled of [...rules.ingress, ...rules.egress]) yield { compiled, subjects };
    }
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
    for (const src of this.classes) {
      for (const list of this.destinationCandidates(src)) {
        for (const dstId of list) {
          if (seen[dstId] === src.id) continue;
          seen[dstId] = src.id;
          const pair = this.classPorts(src, this.classes[dstId] as PodClass);
          if (!isEmptyPorts(pair.ports)) yield pair;
        }
      }
    }
  }

  /** Built on first need and kept until a policy changes: every source that may send anywhere asks. */
  private admitting: { everyone: number[]; from: Map<number, Iterable<number>[]> } | undefined;

  /**
   * Lists of class ids that hold every class `src` may reach (ids may repeat across lists): the
   * classes its egress rules name, and, when it may send anywhere, the classes that may admit it.
   */
  destinationCandidates(src: PodClass): Iterable<number>[] {
    const row = this.row(src, 'egress');
    const lists: Iterable<number>[] = [];
    if (mayAdmitAnyone(row)) {
      this.admitting ??= this.ingressAdmission();
      lists.push(this.admitting.everyone, ...(this.admitting.from.get(src.id) ?? []));
    }
    for (const rule of row.rules) if (rule.classes) lists.push(rule.classes);
    // Baseline rules count too: a level after them (Calico's profiles) can close a row they allow in.
    for (const rule of row.admin) if (rule.action === 'Allow') lists.push(rule.classes);
    for (const rule of row.baseline) if (rule.action === 'Allow') lists.push(rule.classes);
    for (const level of row.levels)
      for (const rule of level.rules) if (rule.action === 'Allow') lists.push(rule.classes);
    return lists;
  }

  /**
   * For sources that may send anywhere: the classes that may admit every source, and for each source
   * the subjects of the ingress rules that may allow it by name.
   */
  private ingressAdmission(): { everyone: number[]; from: Map<number, Iterable<number>[]> } {
    const everyone = this.classes.filter((c) => mayAdmitAnyone(this.row(c, 'ingress'))).map((c) => c.id);
    // Subjects gathered per peer set first (rules with equal peers share one), then listed once per
    // source in the set: per rule, tenants that all admit each other cost a list per tenant per tenant.
    const bySources = new Map<Iterable<number>, Iterable<number>[]>();
    const add = (sources: Iterable<number>, subjects: Iterable<number>) => {
      const lists = bySources.get(sources);
      if (lists) lists.push(subjects);
      else bySources.set(sources, [subjects]);
    };
    for (const [policy, rules] of this.compiled) {
      if (!policy.isolates.ingress) continue;
      for (const rule of rules.ingress) add(rule.classes ?? [], this.matcher.selectedBy(policy));
    }
    for (const [policy, rules] of this.clusterCompiled) {
      for (const rule of rules.ingress) {
        if (rule.action === 'Allow') add(rule.classes, this.matcher.clusterSubject(policy));
      }
    }
    for (const policy of this.kindPolicies) {
      for (const rule of policy.rules.ingress)
        if (rule.action === 'Allow') add(rule.classes, policy.subjects);
    }
    const from = new Map<number, Iterable<number>[]>();
    for (const [sources, lists] of bySources) {
      const subjects = lists.length === 1 ? (lists[0] as Iterable<number>) : lists.flatMap((l) => [...l]);
      for (const srcId of sources) {
        const list = from.get(srcId);
        if (list) list.push(subjects);
        else from.set(srcId, [subjects]);
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
    // As a peer, a class is told apart by the peer sets it belongs to. Rules with equal peers share one
    // set (PeerMatcher caches them), and the rules a class belongs to follow from its sets, so listing
    // sets instead of rules tells the same classes apart without a thousand tenants each admitting
    // every namespace costing a million entries.
    const memberships: number[][] = this.classes.map(() => []);
    const peerSets = new Map<Iterable<number>, number>();
    const member = (set: Iterable<number> | undefined) => {
      if (set === undefined || peerSets.has(set)) return;
      peerSets.set(set, peerSets.size);
      for (const id of set) memberships[id]?.push(peerSets.size - 1);
    };
    // Rules with equal peers share their sets (PeerMatcher caches them), so each set is spelled once:
    // a thousand tenants each admitting every namespace would otherwise spell a thousand ids a thousand times.
    // Each spelling is then replaced by a short number, so no class's key repeats a set's thousand ids.
    const spelled = new Map<object, string>();
    const numbers = new Map<string, string>();
    const spell = <T extends object>(value: T, write: (value: T) => string) => {
      let text = spelled.get(value);
      if (text === undefined) {
        const long = write(value);
        text = numbers.get(long) ?? `${numbers.size}`;
        numbers.set(long, text);
        spelled.set(value, text);
      }
      return text;
    };
    const ids = (set: ReadonlySet<number>) => spell(set, (s) => [...s].sort((a, b) => a - b).join(','));
    const ranges = (addresses: IntervalSet<bigint>) =>
      spell(addresses, (a) => a.map(([lo, hi]) => `${lo}-${hi}`).join(','));
    const ruleMeaning = new Map<CompiledRule, string>();
    for (const rules of this.compiled.values()) {
      for (const compiled of [...rules.ingress, ...rules.egress]) {
        const peers = compiled.classes ? ids(compiled.classes) : '*';
        ruleMeaning.set(
          compiled,
          `${peers}/${ids(compiled.classesByIpBlock)}/${ranges(compiled.addresses)}/${JSON.stringify(compiled.rule.ports ?? null)}`,
        );
        member(compiled.classes);
      }
    }
    const clusterMeaning = new Map<CompiledClusterRule, string>();
    for (const rules of this.clusterCompiled.values()) {
      for (const compiled of [...rules.ingress, ...rules.egress]) {
        clusterMeaning.set(
          compiled,
          `${compiled.action}/${ids(compiled.classes)}/${ranges(compiled.addresses)}/${JSON.stringify(compiled.rule.ports ?? null)}`,
        );
        member(compiled.classes);
      }
    }
    for (const policy of this.kindPolicies) {
      for (const rule of [...policy.rules.ingress, ...policy.rules.egress]) member(rule.classes);
    }
    return this.classes.map((c) => {
      const side = (direction: Direction) => {
        const row = this.row(c, direction);
        if (row.open) return 'open';
        // Rules of other kinds are told apart by id: classes under different ones may differ.
        const levels = row.levels.map((l) => `${l.level}${l.isolates}:${l.rules.map((r) => r.id).join(',')}`);
        if (levels.length > 0)
          return `${row.isolated}:${row.rules.map((r) => r.id).join(',')}:${[...row.admin, ...row.baseline].map((r) => r.id).join(',')}:${levels.join(';')}`;
        const rules = row.rules
          .map((r) => ruleMeaning.get(r))
          .sort()
          .join(';');
        // Tier rules keep their order: it decides which of them wins.
        const tiers = [...row.admin, null, ...row.baseline].map((r) => (r ? clusterMeaning.get(r) : '|'));
        return `${row.isolated}:${rules}:${tiers.join(';')}`;
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

  /** The rules of other kinds (Calico, Cilium) that apply to a class in one direction, level by level. */
  kindRulesOf(subject: PodClass, direction: Direction): readonly KindRule[] {
    return this.row(subject, direction).levels.flatMap((l) => l.rules);
  }

  /** External addresses a class may reach (egress) or be reached from (ingress), grouped by ports. */
  externalPorts(subject: PodClass, direction: Direction): AddressPorts[] {
    const row = this.row(subject, direction);
    if (row.open) return [{ addresses: ALL_ADDRESSES, ports: ALL_PORTS }];
    const { rules, admin, baseline } = row;
    const kindRules = row.levels.flatMap((l) => l.rules);
    // Classes under the same rules share the answer, unless a named port resolves differently.
    const named = [...rules, ...admin, ...baseline, ...kindRules].some((r) => !r.numericPorts);
    const namedPorts = direction === 'ingress' && named ? subject.namedPortsId : '';
    const ids = (list: readonly { id: number }[]) => list.map((r) => r.id).join(',');
    const levels = row.levels.map((l) => `${l.level}${l.isolates}`).join(',');
    const key = `${direction}:${row.isolated}:${ids(rules)}:${ids(admin)}:${ids(baseline)}:${ids(kindRules)}:${levels}:${namedPorts}`;
    let result = this.externalCache.get(key);
    if (!result) {
      // Egress named ports resolve on the destination, and an external address has none.
      const destination = direction === 'egress' ? undefined : subject;
      const grants = rules.map((compiled) => ({
        addresses: compiled.addresses,
        ports: this.rulePorts(compiled, destination),
      }));
      if (!tiered(row)) result = partitionByPorts(grants);
      else {
        result = partitionAddresses(
          [
            ALL_ADDRESSES,
            ...grants.map((g) => g.addresses),
            ...[...admin, ...baseline, ...kindRules].map((r) => r.addresses),
          ],
          (address) =>
            walkTiers(
              this.tierLevels(
                row,
                destination,
                (r) => contains(r.addresses, address),
                () =>
                  grants.reduce(
                    (acc, g) => (contains(g.addresses, address) ? unionPorts(acc, g.ports) : acc),
                    NO_PORTS,
                  ),
              ),
            ),
        );
      }
      this.externalCache.set(key, result);
    }
    return result;
  }

  /** The tier rules that match a peer, with the ports each applies to at `destination`. */
  private *tierMatches(
    rules: readonly TierRule[],
    destination: PodClass | undefined,
    matches: (rule: TierRule) => boolean,
  ): Generator<TierMatch<TierRule>> {
    for (const rule of rules) {
      if (!matches(rule)) continue;
      const ports = isKindRule(rule)
        ? (rule.numericPorts ?? this.portsAt(rule, destination, () => rule.ports(destination)))
        : this.clusterRulePorts(rule, destination);
      yield { rule, action: rule.action, ports };
    }
  }

  /**
   * The levels of the tier walk for one side: Admin, the levels of other kinds in order, NetworkPolicy's
   * (its grant among the rules of other kinds that share the level, by order), Baseline.
   */
  private tierLevels(
    row: Row,
    destination: PodClass | undefined,
    matches: (rule: TierRule) => boolean,
    networkPolicyGrant: () => PortSet,
  ): TierLevel<TierRule>[] {
    const fixed: RowLevel[] = [
      { level: ADMIN_LEVEL, tier: 'Admin', rules: [], isolates: false },
      { level: NETWORK_POLICY_LEVEL, tier: 'NetworkPolicy', rules: [], isolates: row.isolated },
      { level: BASELINE_LEVEL, tier: 'Baseline', rules: [], isolates: false },
    ];
    const merged = new Map<number, RowLevel>(fixed.map((l) => [l.level, { ...l }]));
    for (const l of row.levels) {
      const at = merged.get(l.level);
      if (at) merged.set(l.level, { ...at, rules: l.rules, isolates: at.isolates || l.isolates });
      else merged.set(l.level, l);
    }
    const self = this;
    return [...merged.values()]
      .sort((a, b) => a.level - b.level)
      .map((l) => {
        const own: readonly TierRule[] =
          l.level === ADMIN_LEVEL ? row.admin : l.level === BASELINE_LEVEL ? row.baseline : [];
        function* sequence(): Generator<TierMatch<TierRule>> {
          yield* self.tierMatches(own, destination, matches);
          const before = l.rules.filter((r) => r.order < NETWORK_POLICY_ORDER);
          const after = l.rules.filter((r) => r.order >= NETWORK_POLICY_ORDER);
          if (l.level !== NETWORK_POLICY_LEVEL) {
            yield* self.tierMatches(l.rules, destination, matches);
            return;
          }
          yield* self.tierMatches(before, destination, matches);
          if (row.isolated) yield { action: 'Allow', ports: networkPolicyGrant() };
          yield* self.tierMatches(after, destination, matches);
        }
        return { tier: l.tier, matches: sequence(), isolates: l.isolates };
      });
  }

  /**
   * The first level of the tier walk that isolates a class in a direction with no Pass rule to hand a
   * peer on past it, so that whatever its rules and earlier ones do not allow is denied: with the
   * policies of other kinds (Calico, Cilium) that make it isolate. Undefined when something can fall
   * through every level to the default allow.
   */
  closingLevel(
    subject: PodClass,
    direction: Direction,
  ): { tier: string; policies: KindPolicy[] } | undefined {
    if (subject.hostNetwork) return undefined;
    const row = this.row(subject, direction);
    if (row.open) return undefined;
    const levels = new Map<number, { tier: string; isolates: boolean; passes: boolean }>();
    if (row.isolated)
      levels.set(NETWORK_POLICY_LEVEL, { tier: 'NetworkPolicy', isolates: true, passes: false });
    for (const l of row.levels) {
      const at = levels.get(l.level);
      const passes = l.rules.some((r) => r.action === 'Pass');
      levels.set(l.level, {
        tier: at?.tier ?? l.tier,
        isolates: (at?.isolates ?? false) || l.isolates,
        passes: (at?.passes ?? false) || passes,
      });
    }
    for (const [level, l] of [...levels].sort((a, b) => a[0] - b[0])) {
      if (!l.isolates || l.passes) continue;
      return { tier: l.tier, policies: row.kindIsolatedBy.filter((p) => p.level === level) };
    }
    return undefined;
  }

  /** Every rule that takes part in the verdict for one direction of src → dst. */
  explainSide(subject: Pod, peer: Endpoint, direction: Direction): SideExplanation {
    const subjectClass = this.classOf(subject);
    if (subjectClass.hostNetwork)
      return {
        hostNetwork: true,
        isolatedBy: [],
        admittedBy: [],
        tiers: [],
        chain: [],
        kindSteps: [],
        kindIsolatedBy: [],
        ports: ALL_PORTS,
      };
    const row = this.row(subjectClass, direction);
    const isolatedBy = this.isolation[direction][subjectClass.id] ?? [];
    const peerClass = 'pod' in peer ? this.classOf(peer.pod) : undefined;
    const peerAddress = 'ip' in peer ? parseAddress(peer.ip) : undefined;
    const destination = direction === 'ingress' ? subjectClass : peerClass;
    const admittedBy: SideExplanation['admittedBy'] = [];
    for (const compiled of row.rules) {
      const admits = peerClass
        ? compiled.classes === undefined || compiled.classes.has(peerClass.id)
        : peerAddress !== undefined && contains(compiled.addresses, peerAddress);
      if (!admits) continue;
      const ports = this.rulePorts(compiled, destination);
      const byIpBlock = peerClass !== undefined && compiled.classesByIpBlock.has(peerClass.id);
      admittedBy.push({ policy: compiled.policy, rule: compiled.rule, ports, byIpBlock });
    }
    const granted = row.isolated
      ? admittedBy.reduce((acc, entry) => unionPorts(acc, entry.ports), NO_PORTS)
      : ALL_PORTS;
    const { kindIsolatedBy } = row;
    const notIsolating = row.kindNotIsolating.length > 0 ? { kindNotIsolating: row.kindNotIsolating } : {};
    if (!tiered(row))
      return {
        hostNetwork: false,
        isolatedBy,
        admittedBy,
        tiers: [],
        chain: [],
        kindSteps: [],
        kindIsolatedBy,
        ...notIsolating,
        ports: granted,
      };
    const matchesPeer = (rule: TierRule) =>
      peerClass
        ? rule.classes.has(peerClass.id)
        : peerAddress !== undefined && contains(rule.addresses, peerAddress);
    const steps: TierStep<TierRule>[] = [];
    const ports = walkTiers(
      this.tierLevels(row, destination, matchesPeer, () => granted),
      steps,
    );
    const kindSteps: SideExplanation['kindSteps'] = [];
    const tiers: SideExplanation['tiers'] = [];
    for (const step of steps) {
      if (isKindRule(step.rule)) kindSteps.push({ rule: step.rule, action: step.action, ports: step.ports });
      else tiers.push(step as TierStep<CompiledClusterRule>);
    }
    // The tier chain is shown when Admin or Baseline rules take part; otherwise the side reads as before.
    const shown = row.admin.length > 0 || row.baseline.length > 0 ? tiers : [];
    return {
      hostNetwork: false,
      isolatedBy,
      admittedBy,
      tiers: shown,
      chain: steps,
      kindSteps,
      kindIsolatedBy,
      ...notIsolating,
      ports,
    };
  }

  /**
   * Applies one policy change (added, changed or deleted) and returns the class pairs whose allowed
   * ports changed, or whether they rest on ipblock-matches-pods, and the classes the policy selects,
   * before or after (`subjects`): only those are recomputed, and only their external answers can
   * change; `evaluated` counts the class pairs it weighed, its cost. A new ipBlock edge that could split
   * pod classes needs a fresh Engine: `rebuild` is then true and nothing changed.
   */
  replacePolicy(
    before: NetworkPolicy | undefined,
    after: NetworkPolicy | undefined,
  ): { rebuild: boolean; changed: ClassPairPorts[]; subjects: PodClass[]; evaluated: number } {
    if (after && this.options.ipBlockMatchesPods && ipBlockCuts([after]).some((cut) => !this.cuts.has(cut))) {
      return { rebuild: true, changed: [], subjects: [], evaluated: 0 };
    }
    const affected = new Set([
      ...(before ? this.matcher.selectedBy(before) : []),
      ...(after ? this.matcher.selectedBy(after) : []),
    ]);
    const candidates: [number, number][] = [];
    const previous = new Map<string, ClassPairPorts | undefined>();
    // A pair first met in a row rebuilt after the change was granted nothing before it: had the old row
    // been open or had peerless rules, every class would have been met before the change.
    // A policy fills its subjects' rows only in the directions it isolates: the others stay as they were.
    const changes = (direction: Direction) =>
      before?.isolates[direction] === true || after?.isolates[direction] === true;
    const touchRows = (before: boolean) => {
      const partners = this.partnersOf();
      for (const id of affected) {
        const subject = this.classes[id] as PodClass;
        const pairs: [number, number][] = [
          ...(changes('egress') ? [...partners(subject, 'egress')] : []).map((peerId): [number, number] => [
            id,
            peerId,
          ]),
          ...(changes('ingress') ? [...partners(subject, 'ingress')] : []).map((peerId): [number, number] => [
            peerId,
            id,
          ]),
        ];
        for (const [srcId, dstId] of pairs) {
          const key = `${srcId}:${dstId}`;
          if (previous.has(key)) continue;
          previous.set(
            key,
            before
              ? this.classPorts(this.classes[srcId] as PodClass, this.classes[dstId] as PodClass)
              : undefined,
          );
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
    this.admitting = undefined;
    touchRows(false);
    const changed: ClassPairPorts[] = [];
    for (const [srcId, dstId] of candidates) {
      const now = this.classPorts(this.classes[srcId] as PodClass, this.classes[dstId] as PodClass);
      const was = previous.get(`${srcId}:${dstId}`);
      if (!equalPorts(now.ports, was?.ports ?? NO_PORTS) || now.byIpBlock !== (was?.byIpBlock ?? false))
        changed.push(now);
    }
    return {
      rebuild: false,
      changed,
      subjects: [...affected].map((id) => this.classes[id] as PodClass),
      evaluated: candidates.length,
    };
  }

  /**
   * Takes `next` as the engine's input once replacePolicy has applied the NetworkPolicy changes from
   * the current one: every other part of `next` must be the engine's own (the same objects) and its
   * policies the ones the engine holds. The policies' order is taken from `next`, and the isolation of
   * `subjects` (what replacePolicy returned) listed again in it, so that explanations read as a fresh
   * engine's would.
   */
  rebase(next: Snapshot, subjects: Iterable<PodClass>): void {
    if (
      !differsInPoliciesAlone(this.input, next) ||
      next.policies.length !== this.policies.length ||
      !next.policies.every((p) => this.compiled.has(p))
    )
      throw new Error('rebase: the snapshot differs from the engine in more than the policies it applied');
    this.input = next;
    this.policies = [...next.policies];
    this.policiesByNamespace = undefined;
    for (const subject of subjects) {
      this.indexIsolation(subject);
      this.rows.egress[subject.id] = undefined;
      this.rows.ingress[subject.id] = undefined;
    }
    this.externalCache.clear();
    this.admitting = undefined;
  }

  /**
   * The classes a class can have an allowed pair with, on the side of its row in a direction: the
   * peers of its rules, or the classes whose own row may grant it something (open, or with a rule
   * naming it), as allowedClassPairs reasons, whichever is fewer (a row open to anyone has no list of
   * its own). Open rows are listed once per call of partnersOf, so a call sees the rows as they are.
   */
  private partnersOf(): (subject: PodClass, direction: Direction) => Iterable<number> {
    const open: Partial<Record<Direction, number[]>> = {};
    const openIn = (direction: Direction) => {
      open[direction] ??= this.classes.filter((c) => mayAdmitAnyone(this.row(c, direction))).map((c) => c.id);
      return open[direction];
    };
    return (subject, direction) => {
      const own = mayAdmitAnyone(this.row(subject, direction))
        ? undefined
        : new Set(this.peersOfRow(subject, direction));
      // A short list of its own is cheaper to weigh than finding who grants the class.
      if (own && own.size <= SHORT_PARTNER_LIST) return own;
      const other: Direction = direction === 'egress' ? 'ingress' : 'egress';
      const granting = new Set(openIn(other));
      const naming = (rules: readonly { classes?: ReadonlySet<number>; action?: TierAction }[]) =>
        rules.some((r) => r.action !== 'Deny' && r.action !== 'Pass' && r.classes?.has(subject.id));
      for (const [policy, rules] of this.compiled)
        if (policy.isolates[other] && naming(rules[other]))
          for (const id of this.matcher.selectedBy(policy)) granting.add(id);
      for (const [policy, rules] of this.clusterCompiled)
        if (naming(rules[other])) for (const id of this.matcher.clusterSubject(policy)) granting.add(id);
      for (const policy of this.kindPolicies)
        if (naming(policy.rules[other])) for (const id of policy.subjects) granting.add(id);
      // A pair is allowed only when both rows grant it: either side's list holds every partner.
      return own && own.size <= granting.size ? own : granting;
    };
  }

  /** Peers a class's row can grant something to: every class when it may admit anyone. */
  private peersOfRow(subject: PodClass, direction: Direction): Iterable<number> {
    const row = this.row(subject, direction);
    if (mayAdmitAnyone(row)) return this.classes.map((c) => c.id);
    const allowing = [...row.admin, ...row.baseline, ...row.levels.flatMap((l) => l.rules)].filter(
      (r) => r.action === 'Allow',
    );
    return new Set([...row.rules, ...allowing].flatMap((r) => [...(r.classes ?? [])]));
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
    return this.portsAt(compiled, destination, () => portsOf(compiled.rule.ports, destination));
  }

  private clusterRulePorts(compiled: CompiledClusterRule, destination: PodClass | undefined): PortSet {
    return this.portsAt(compiled, destination, () => clusterPortsOf(compiled.rule.ports, destination));
  }

  /** A rule's ports at a destination, resolved once per destination shape when it names ports by name. */
  private portsAt(
    compiled: { id: number; numericPorts?: PortSet | undefined },
    destination: PodClass | undefined,
    resolve: () => PortSet,
  ): PortSet {
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
      ports = resolve();
      byShape[slot] = ports;
    }
    return ports;
  }

  private row(subject: PodClass, direction: Direction): Row {
    const cached = this.rows[direction][subject.id];
    if (cached) return cached;
    let row = OPEN_ROW;
    const isolatedBy = this.isolation[direction][subject.id] ?? [];
    const admin: CompiledClusterRule[] = [];
    const baseline: CompiledClusterRule[] = [];
    for (const [policy, rules] of this.clusterCompiled) {
      if (rules[direction].length === 0 || !this.matcher.clusterSubject(policy).has(subject.id)) continue;
      (policy.tier === 'Admin' ? admin : baseline).push(...rules[direction]);
    }
    const byLevel = new Map<number, RowLevel>();
    const kindIsolatedBy: KindPolicy[] = [];
    const kindNotIsolating: KindPolicy[] = [];
    if (!subject.hostNetwork && this.kindPolicies.length > 0) {
      for (const policy of this.kindPolicies) {
        if (!policy.subjects.has(subject.id)) continue;
        const isolates = policy.isolates[direction];
        if (isolates) kindIsolatedBy.push(policy);
        if (!isolates && policy.rules[direction].length === 0) continue;
        if (!isolates) kindNotIsolating.push(policy);
        const level = byLevel.get(policy.level) ?? {
          level: policy.level,
          tier: policy.tier,
          rules: [],
          isolates: false,
        };
        level.rules.push(...policy.rules[direction]);
        level.isolates ||= isolates;
        byLevel.set(policy.level, level);
      }
    }
    // A stable sort keeps the adapters' order among equal keys.
    const levels = byLevel.size === 0 ? NO_LEVELS : [...byLevel.values()].sort((a, b) => a.level - b.level);
    for (const level of levels) level.rules.sort((a, b) => a.order - b.order);
    if (isolatedBy.length > 0 || admin.length > 0 || baseline.length > 0 || levels.length > 0) {
      const rules = isolatedBy.flatMap((policy) => this.compiled.get(policy)?.[direction] ?? []);
      row = {
        open: false,
        isolated: isolatedBy.length > 0,
        rules,
        byIpBlock: rules.some((r) => r.classesByIpBlock.size > 0),
        admin,
        baseline,
        levels,
        kindIsolatedBy,
        kindNotIsolating,
      };
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
    if (!tiered(row)) return this.networkPolicyGrant(row, destination, peer, withPodIpBlocks);
    return walkTiers(
      this.tierLevels(
        row,
        destination,
        (rule) => rule.classes.has(peer.id),
        () => this.networkPolicyGrant(row, destination, peer, withPodIpBlocks),
      ),
    );
  }

  private networkPolicyGrant(
    row: Row,
    destination: PodClass,
    peer: PodClass,
    withPodIpBlocks: boolean,
  ): PortSet {
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

/** Address edges Cilium's rules depend on: Cilium nodes' addresses and every CIDR, so pods between them agree. */
function ciliumCuts(snapshot: Snapshot): bigint[] {
  if (snapshot.ciliumPolicies.length === 0) return [];
  const sets: IntervalSet<bigint>[] = [];
  for (const node of ciliumNodes(snapshot.nodes)) {
    for (const ip of node.ips) {
      const address = parseAddress(ip);
      if (address !== undefined) sets.push([[address, address]]);
    }
  }
  for (const policy of snapshot.ciliumPolicies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind !== 'cidr' && peer.kind !== 'cidrGroup') continue;
        for (const block of peerCidrs(peer, snapshot.ciliumCidrGroups)) sets.push(ipBlockAddresses(block));
      }
    }
  }
  return cutsOf(sets);
}
