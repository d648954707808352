import {
  type CalicoPolicy,
  type CalicoResources,
  type CalicoRule,
  type CalicoTier,
  calicoPolicyId,
  compareOrder,
  DEFAULT_TIER,
  type EntityRule,
  KUBERNETES_POLICY_ORDER,
} from '../../model/calico.ts';
import type { Direction, Snapshot } from '../../model/types.ts';
import { ALL_ADDRESSES, parseCidr } from '../addresses.ts';
import type { EngineOptions } from '../endpoint.ts';
import { type IntervalSet, intersect, normalize, subtract } from '../intervals.ts';
import {
  ADMIN_LEVEL,
  BASELINE_LEVEL,
  type KindPolicy,
  type KindRule,
  NETWORK_POLICY_LEVEL,
} from '../kind-rules.ts';
import type { PodClass } from '../pod-classes.ts';
import {
  ICMP_TYPES,
  intersectPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  subtractPorts,
  TRANSPORTS,
  type Transport,
  unionPorts,
} from '../ports.ts';
import {
  calicoPolicyApplies,
  entityMatches,
  icmpTypeMatches,
  networkSetInScope,
  networkSetMatches,
  podFamily,
  protocolMatches,
  type RuleScope,
  serviceAccountOf,
} from './match.ts';
import { ADMIN_TIER, BASELINE_TIER, kubernetesPolicyName, tiersInOrder } from './tiers.ts';

/** Profiles come after every tier: the namespace profile, the service account profile, then Deny. */
const PROFILE_LEVEL = 1e21;
/** Unordered tiers come after every ordered one, by name. */
const UNORDERED_LEVEL = 1e18;
const V6_START = 1n << 32n;
const V4_ADDRESSES: IntervalSet<bigint> = [[0n, V6_START - 1n]];

/**
 * The Calico adapter: compiles Calico's tiers, policies and profiles to levels of the one engine's tier
 * walk (kind-rules.ts). A tier is a level at its `order` (the default tier shares NetworkPolicy's level,
 * the Admin and Baseline levels are Calico's kube-admin and kube-baseline tiers); a tier ending in Deny
 * isolates the endpoints its policies apply to. A rule becomes one engine rule per part of its match
 * the engine cannot express as peer classes (what the rule asks of the subject, and IP families).
 * Rules are matched per pod class with the reference's own predicates (match.ts), which the classes
 * make exact: they differ in everything a Calico rule can see.
 */
export class CalicoAdapter {
  private readonly out: KindPolicy[] = [];
  /** What each engine rule was compiled from, for lint and explanations. */
  readonly sources = new Map<KindRule, { rule: CalicoRule; tier: string; subjects: ReadonlySet<number> }>();
  private readonly entityCache = new Map<string, Set<number>>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly calico: CalicoResources,
    private readonly classes: readonly PodClass[],
    private readonly options: EngineOptions,
    private readonly nextId: () => number,
  ) {}

  compile(): KindPolicy[] {
    const levels = tierLevels(tiersInOrder(this.calico));
    for (const tier of this.calico.tiers) {
      const policies = this.calico.policies.filter((p) => p.tier === tier.name).sort(compareOrder);
      for (const policy of policies) this.compilePolicy(tier, levels.get(tier.name) as number, policy);
    }
    this.compileProfiles();
    return this.out;
  }

  private compilePolicy(tier: CalicoTier, level: number, policy: CalicoPolicy): void {
    const origin = {
      kind: policy.kind,
      policy: `${calicoPolicyId(policy)} (tier ${tier.name}, order ${policy.order ?? 'unset'})`,
      provenance: policy.provenance,
    };
    const subjects = (direction: Direction) =>
      this.classIds((c) =>
        calicoPolicyApplies(
          this.snapshot,
          policy,
          c.pods[0] as PodClass['pods'][number],
          direction,
          this.options,
        ),
      );
    const bySide = { ingress: subjects('ingress'), egress: subjects('egress') };
    const tierName = `Calico tier ${tier.name}`;
    // Isolation alone: the tier applies to these endpoints, and ends in its default action.
    this.out.push({
      level,
      tier: tierName,
      subjects: union2(bySide.ingress, bySide.egress),
      isolates: {
        ingress: tier.defaultAction === 'Deny' && policy.types.ingress,
        egress: tier.defaultAction === 'Deny' && policy.types.egress,
      },
      rules: { ingress: [], egress: [] },
      origin,
    });
    const order = ruleOrder(tier, policy);
    const scope: RuleScope = policy.namespace !== undefined ? { namespace: policy.namespace } : {};
    for (const direction of ['ingress', 'egress'] as const) {
      for (const rule of policy[direction]) {
        const id = `${calicoPolicyId(policy)} ${direction}[${rule.index}]`;
        this.compileRule(rule, scope, bySide[direction], level, tierName, order, {
          ...origin,
          rule: id,
          provenance: rule.provenance,
        });
      }
    }
  }

  /**
   * A rule's engine rules. The subject side of the rule (destination for ingress, source for egress)
   * narrows the subjects; `ipVersion` splits the pairs by the family their connection would use.
   */
  private compileRule(
    rule: CalicoRule,
    scope: RuleScope,
    policySubjects: ReadonlySet<number>,
    level: number,
    tier: string,
    order: number,
    origin: KindRule['origin'],
  ): void {
    if (rule.action === 'Log' || rule.source.ports || rule.source.notPorts) return;
    const { direction } = rule;
    const [peerEntity, subjectEntity] =
      direction === 'ingress' ? [rule.source, rule.destination] : [rule.destination, rule.source];
    const subjects = new Set([...policySubjects].filter((id) => this.entityHas(subjectEntity, scope, id)));
    if (subjects.size === 0) return;
    const peers = this.classIds((c) => this.entityHas(peerEntity, scope, c.id));
    const addresses = this.entityAddresses(peerEntity, scope);
    const named = [...(rule.destination.ports ?? []), ...(rule.destination.notPorts ?? [])].some(
      (p) => p.kind === 'named',
    );
    const emit = (
      subjectIds: Set<number>,
      peerIds: Set<number>,
      peerAddresses: IntervalSet<bigint>,
      transports: readonly Transport[],
    ) => {
      if (subjectIds.size === 0 || (peerIds.size === 0 && peerAddresses.length === 0)) return;
      const ports = (destination: PodClass | undefined) => rulePorts(rule, transports, destination);
      const engineRule: KindRule = {
        id: this.nextId(),
        action: rule.action as KindRule['action'],
        order,
        classes: peerIds,
        addresses: peerAddresses,
        ...(!named && { numericPorts: ports(undefined) }),
        ports,
        origin,
      };
      this.sources.set(engineRule, { rule, tier, subjects: subjectIds });
      this.out.push({
        level,
        tier,
        subjects: subjectIds,
        isolates: { ingress: false, egress: false },
        rules: {
          ingress: direction === 'ingress' ? [engineRule] : [],
          egress: direction === 'egress' ? [engineRule] : [],
        },
        origin,
      });
    };
    // ICMP is ICMPv4 in one family and ICMPv6 in the other, so what a rule matches may differ by family.
    const transports = (f: 4 | 6) =>
      rule.ipVersion !== undefined && rule.ipVersion !== f
        ? []
        : TRANSPORTS.filter((t) => protocolMatches(rule, t, f));
    const v4 = transports(4);
    const v6 = transports(6);
    if (v4.join() === v6.join()) {
      if (v4.length > 0) emit(subjects, peers, addresses, v4);
      return;
    }
    const family = (id: number) => podFamily(this.classes[id]?.pods[0] as PodClass['pods'][number]);
    const pick = (ids: ReadonlySet<number>, want: (f: 4 | 6 | undefined) => boolean) =>
      new Set([...ids].filter((id) => want(family(id))));
    for (const [v, list] of [
      [4, v4],
      [6, v6],
    ] as const) {
      if (list.length === 0) continue;
      const exactly = (f: 4 | 6 | undefined) => f === v;
      const none = (f: 4 | 6 | undefined) => f === undefined;
      const fallback = (f: 4 | 6 | undefined) => (f ?? 4) === v;
      // An address end gives the connection its family; between pods it is the destination's, or the source's.
      const external = intersect(addresses, v === 4 ? V4_ADDRESSES : subtract(ALL_ADDRESSES, V4_ADDRESSES));
      if (direction === 'ingress') {
        emit(pick(subjects, exactly), peers, external, list);
        emit(pick(subjects, none), pick(peers, fallback), external, list);
        emit(
          pick(subjects, (f) => !exactly(f) && !none(f)),
          new Set(),
          external,
          list,
        );
      } else {
        emit(subjects, pick(peers, exactly), external, list);
        emit(pick(subjects, fallback), pick(peers, none), [], list);
      }
    }
  }

  /** Declared namespace profiles replace the allow-all Calico generates; then the service account's; then Deny. */
  private compileProfiles(): void {
    for (const profile of this.calico.profiles) {
      const match = /^kns\.(.+)$/.exec(profile.name);
      if (!match) continue;
      const namespace = match[1] as string;
      const inNamespace = this.classIds((c) => !c.hostNetwork && c.namespace === namespace);
      if (inNamespace.size === 0) continue;
      const origin = { kind: 'Profile', policy: `Profile ${profile.name}`, provenance: profile.provenance };
      const all = (list: readonly CalicoRule[], level: number, subjects: ReadonlySet<number>) => {
        for (const rule of list) {
          this.compileRule(rule, {}, subjects, level, 'Calico profiles', rule.index, {
            ...origin,
            policy: `Profile ${profile.name}`,
            rule: `Profile ${profile.name} ${rule.direction}[${rule.index}]`,
            provenance: rule.provenance,
          });
        }
      };
      all([...profile.ingress, ...profile.egress], PROFILE_LEVEL, inNamespace);
      for (const account of this.calico.profiles) {
        const prefix = `ksa.${namespace}.`;
        if (!account.name.startsWith(prefix)) continue;
        const name = account.name.slice(prefix.length);
        const subjects = new Set(
          [...inNamespace].filter(
            (id) => serviceAccountOf(this.classes[id]?.pods[0] as PodClass['pods'][number]) === name,
          ),
        );
        all([...account.ingress, ...account.egress], PROFILE_LEVEL + 1e6, subjects);
      }
      this.out.push({
        level: PROFILE_LEVEL + 2e6,
        tier: 'Calico profiles',
        subjects: inNamespace,
        isolates: { ingress: true, egress: true },
        rules: { ingress: [], egress: [] },
        origin,
      });
    }
  }

  private classIds(test: (c: PodClass) => boolean): Set<number> {
    return new Set(this.classes.filter(test).map((c) => c.id));
  }

  /** Whether a class matches an entity rule (ports aside), cached per rule text and scope. */
  private entityHas(entity: EntityRule, scope: RuleScope, id: number): boolean {
    const key = `${scope.namespace ?? ''}|${JSON.stringify(entity, (k, v) => (k === 'ports' || k === 'notPorts' ? undefined : k === 'expr' ? undefined : v))}`;
    let set = this.entityCache.get(key);
    if (!set) {
      set = this.classIds((c) =>
        entityMatches(
          this.snapshot,
          withoutPorts(entity),
          { pod: c.pods[0] as PodClass['pods'][number] },
          scope,
          this.options,
        ),
      );
      this.entityCache.set(key, set);
    }
    return set.has(id);
  }

  /** The addresses outside the pods an entity rule matches, from its nets and the network sets it selects. */
  private entityAddresses(entity: EntityRule, scope: RuleScope): IntervalSet<bigint> {
    if (entity.services || entity.serviceAccounts) return [];
    let addresses = ALL_ADDRESSES;
    if (entity.nets) addresses = intersect(addresses, netsAddresses(entity.nets));
    if (entity.notNets) addresses = subtract(addresses, netsAddresses(entity.notNets));
    const scoped = scope.namespace !== undefined || entity.namespaceSelector !== undefined;
    const positive = entity.selector ?? entity.namespaceSelector;
    const sets = (this.calico.networkSets ?? []).filter((set) =>
      networkSetInScope(this.snapshot, set, entity, scope),
    );
    if (positive !== undefined || (scoped && entity.notSelector)) {
      const selector = entity.selector;
      addresses = intersect(
        addresses,
        netsAddresses(sets.filter((s) => !selector || networkSetMatches(s, selector)).flatMap((s) => s.nets)),
      );
    }
    if (entity.notSelector) {
      const not = entity.notSelector;
      addresses = subtract(
        addresses,
        netsAddresses(sets.filter((s) => networkSetMatches(s, not)).flatMap((s) => s.nets)),
      );
    }
    return addresses;
  }
}

function withoutPorts(entity: EntityRule): EntityRule {
  const { ports: _ports, notPorts: _notPorts, ...rest } = entity;
  return rest;
}

function union2(a: ReadonlySet<number>, b: ReadonlySet<number>): Set<number> {
  return new Set([...a, ...b]);
}

export function netsAddresses(nets: readonly string[]): IntervalSet<bigint> {
  return normalize(
    nets.flatMap((net) => {
      const cidr = parseCidr(net);
      return cidr ? [[cidr.lo, cidr.hi] as const] : [];
    }),
  );
}

/** The ports a rule matches at a destination: its transports, its `ports` less its `notPorts`, its ICMP types. */
function rulePorts(
  rule: CalicoRule,
  transports: readonly Transport[],
  destination: PodClass | undefined,
): PortSet {
  let set = NO_PORTS;
  for (const transport of transports) {
    const types = ICMP_TYPES[0] as [number, number];
    const all: IntervalSet<number> =
      transport === 'ICMP'
        ? normalize(
            Array.from({ length: types[1] - types[0] + 1 }, (_, i) => types[0] + i)
              .filter((type) => icmpTypeMatches(rule, type))
              .map((type): [number, number] => [type, type]),
          )
        : [[1, 65535]];
    set = unionPorts(set, portSetOf(transport, all));
  }
  const { ports, notPorts } = rule.destination;
  const resolve = (list: NonNullable<EntityRule['ports']>) => {
    let out = NO_PORTS;
    for (const transport of transports) {
      const ranges = list.flatMap((p): [number, number][] => {
        if (p.kind === 'range') return p.to >= 1 ? [[Math.max(1, p.from), p.to]] : [];
        return (destination?.namedPorts ?? [])
          .filter((n) => n.name === p.name && n.protocol === transport)
          .map((n): [number, number] => [n.port, n.port]);
      });
      out = unionPorts(out, portSetOf(transport, normalize(ranges)));
    }
    return out;
  };
  if (ports) set = intersectPorts(set, resolve(ports));
  if (notPorts) set = subtractPorts(set, resolve(notPorts));
  return set;
}

/**
 * Numeric levels for the tiers in evaluation order. Where orders tie (Calico then goes by name), or a
 * tier shares the order of a level the engine fixes, the levels are nudged apart in name order.
 */
function tierLevels(tiers: readonly CalicoTier[]): Map<string, number> {
  const levels = new Map<string, number>();
  const fixed = new Map<string, number>([
    [ADMIN_TIER.name, ADMIN_LEVEL],
    [DEFAULT_TIER, NETWORK_POLICY_LEVEL],
    [BASELINE_TIER.name, BASELINE_LEVEL],
  ]);
  let unordered = 0;
  for (let i = 0; i < tiers.length; i++) {
    const tier = tiers[i] as CalicoTier;
    const known = fixed.get(tier.name);
    if (known !== undefined) levels.set(tier.name, known);
    else if (tier.order === undefined) levels.set(tier.name, UNORDERED_LEVEL * (1 + unordered++));
    else {
      // Tiers of equal order keep their name order: index distance from the first of the run.
      let first = i;
      while (first > 0 && tiers[first - 1]?.order === tier.order) first--;
      let anchor = first;
      for (let j = first; j < tiers.length && tiers[j]?.order === tier.order; j++)
        if (fixed.has((tiers[j] as CalicoTier).name)) anchor = j;
      levels.set(tier.name, tier.order + (i - anchor) * 1e-6);
    }
  }
  return levels;
}

/**
 * A rule's place in its level: its policy's order. In the default tier, Kubernetes NetworkPolicies sit
 * at order 1000 under the names `knp.default.<name>`; a Calico policy of that order whose name sorts
 * before them goes first.
 */
function ruleOrder(tier: CalicoTier, policy: CalicoPolicy): number {
  const order = policy.order ?? Number.POSITIVE_INFINITY;
  if (
    tier.name === DEFAULT_TIER &&
    order === KUBERNETES_POLICY_ORDER &&
    policy.name < kubernetesPolicyName('')
  ) {
    return order - 1e-9;
  }
  return order;
}

/** Address edges Calico's rules depend on (every net, of rules and network sets) and the IPv4/IPv6 edge. */
export function calicoCuts(calico: CalicoResources): IntervalSet<bigint>[] {
  const rules = [...calico.policies, ...calico.profiles].flatMap((p) => [...p.ingress, ...p.egress]);
  const nets = [
    ...rules.flatMap((r) =>
      [r.source, r.destination].flatMap((e) => [...(e.nets ?? []), ...(e.notNets ?? [])]),
    ),
    ...calico.networkSets.flatMap((s) => s.nets),
  ];
  // One set per net: merged nets would hide the edges inside them.
  const v6: IntervalSet<bigint> = [[V6_START, V6_START]];
  return [...nets.map((net) => netsAddresses([net])), v6];
}
