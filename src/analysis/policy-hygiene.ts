import {
  type ActivePorts,
  type AddressPorts,
  PortGroups,
  sweepPorts,
  unionOfActive,
} from '../engine/address-partition.ts';
import { ALL_ADDRESSES, ipBlockAddresses } from '../engine/addresses.ts';
import { portsOf } from '../engine/compile.ts';
import { isOutsidePolicy } from '../engine/endpoint.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { type IntervalSet, intersect, normalize } from '../engine/intervals.ts';
import { PeerMatcher } from '../engine/peer-matcher.ts';
import {
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
import { selectorMatches } from '../engine/selectors.ts';
import type {
  Direction,
  LabelSelector,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyRule,
  Provenance,
  Snapshot,
} from '../model/types.ts';
import { where } from '../report/explain.ts';
import { ExternalCover } from './external-cover.ts';

/**
 * Findings about policies as written (selectors that match nothing, rules that add nothing), shared by
 * the audit's hygiene checks and `phiwall lint`.
 */
export interface HygieneContext {
  snapshot: Snapshot;
  engine: Engine;
}

/** A problem in a policy of a kind beyond NetworkPolicy, as the kind's lint rules report it. */
export interface LintFinding {
  rule: string;
  at: Provenance;
  policy: string;
  path: string;
  message: string;
  fix: string;
}

/** A rule that other rules cover, with the covering rules as `{ rule: path, at: file:line }`. */
export type CoveringRules = { rule: string; at: string }[];

export function policyId(policy: NetworkPolicy): string {
  return `${policy.namespace}/${policy.name}`;
}

export const PEER_FIELD = { ingress: 'from', egress: 'to' } as const;

/** `ns/policy#spec.ingress[1]`, or with a peer index `ns/policy#spec.ingress[1].from[0]`. */
export function rulePath(policy: NetworkPolicy, rule: PolicyRule, peer?: number): string {
  const base = `${policyId(policy)}#spec.${rule.direction}[${rule.index}]`;
  return peer === undefined ? base : `${base}.${PEER_FIELD[rule.direction]}[${peer}]`;
}

export function selectorText(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels).map(([key, value]) => `${key}=${value}`),
    ...selector.matchExpressions.map(({ key, operator, values }) => {
      if (operator === 'Exists') return key;
      if (operator === 'DoesNotExist') return `!${key}`;
      return `${key} ${operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`;
    }),
  ];
  return parts.length === 0 ? '{}' : parts.join(', ');
}

/**
 * Pods by namespace, with selector answers cached: thousands of policies repeat a few hundred selectors.
 * Under `--host-network node`, hostNetwork pods are outside policy and selectors do not see them.
 */
export class PodIndex {
  /**
   * One index per pod list, namespaces and engine options: the audit's checks share it, and a server's
   * next generation keeps it when only policies changed.
   */
  static of(context: HygieneContext): PodIndex {
    const kept = podIndexes.get(context.snapshot.pods);
    if (kept?.namespaces === context.snapshot.namespaces && kept.options === context.engine.options)
      return kept;
    const index = new PodIndex(context);
    podIndexes.set(context.snapshot.pods, index);
    return index;
  }

  private readonly selectable = new Map<string, Pod[]>();
  private readonly all = new Map<string, Pod[]>();
  private readonly namespaceCache = new Map<string, string[]>();
  private readonly matchCache = new Map<string, boolean>();

  private readonly namespaces: Snapshot['namespaces'];
  private readonly options: Engine['options'];

  constructor(context: HygieneContext) {
    this.namespaces = context.snapshot.namespaces;
    this.options = context.engine.options;
    const add = (map: Map<string, Pod[]>, pod: Pod) => {
      const list = map.get(pod.namespace);
      if (list) list.push(pod);
      else map.set(pod.namespace, [pod]);
    };
    for (const pod of context.snapshot.pods) {
      add(this.all, pod);
      if (!isOutsidePolicy(pod, context.engine.options)) add(this.selectable, pod);
    }
  }

  namespacesMatching(selector: LabelSelector): string[] {
    const key = JSON.stringify(selector);
    let names = this.namespaceCache.get(key);
    if (!names) {
      names = [...this.namespaces.values()]
        .filter((ns) => selectorMatches(selector, ns.labels))
        .map((ns) => ns.name);
      this.namespaceCache.set(key, names);
    }
    return names;
  }

  /** Whether some pod of the namespaces matches; `withHostNetwork` counts pods outside policy too. */
  anyMatch(
    namespaces: readonly string[],
    podSelector: LabelSelector | undefined,
    withHostNetwork = false,
  ): boolean {
    const selectorKey = JSON.stringify(podSelector ?? null);
    return namespaces.some((namespace) => {
      const key = `${namespace}\0${selectorKey}\0${withHostNetwork}`;
      let found = this.matchCache.get(key);
      if (found === undefined) {
        const pods = (withHostNetwork ? this.all : this.selectable).get(namespace) ?? [];
        found = pods.some((p) => !podSelector || selectorMatches(podSelector, p.labels));
        this.matchCache.set(key, found);
      }
      return found;
    });
  }

  /** A few of the label pairs pods of a namespace carry: the likely intended target of a typo. */
  labelHint(namespace: string): string | undefined {
    const pairs = new Set<string>();
    for (const pod of this.selectable.get(namespace) ?? []) {
      for (const [key, value] of Object.entries(pod.labels)) pairs.add(`${key}=${value}`);
    }
    if (pairs.size === 0) return undefined;
    const shown = [...pairs].sort().slice(0, 10);
    return `pods in ${namespace} carry ${shown.join(', ')}${pairs.size > shown.length ? ' …' : ''}`;
  }
}

const podIndexes = new WeakMap<Snapshot['pods'], PodIndex>();

export interface EmptyPeer {
  index: number;
  why: string;
}

/** Pod peers that match no pod; ipBlocks always admit their addresses and are never empty. */
export function emptyPeers(index: PodIndex, policy: NetworkPolicy, rule: PolicyRule): EmptyPeer[] {
  const found: EmptyPeer[] = [];
  (rule.peers ?? []).forEach((peer: PolicyPeer, at) => {
    if (peer.kind !== 'pods') return;
    const namespaces = peer.namespaceSelector
      ? index.namespacesMatching(peer.namespaceSelector)
      : [policy.namespace];
    if (namespaces.length === 0) {
      found.push({
        index: at,
        why: `namespaceSelector ${selectorText(peer.namespaceSelector as LabelSelector)} matches no namespace`,
      });
      return;
    }
    if (index.anyMatch(namespaces, peer.podSelector)) return;
    const scope = peer.namespaceSelector
      ? `namespaces ${namespaces.join(', ')} (namespaceSelector ${selectorText(peer.namespaceSelector)})`
      : `namespace ${policy.namespace}`;
    const hint = namespaces.length === 1 ? index.labelHint(namespaces[0] as string) : undefined;
    found.push({
      index: at,
      why: `${peer.podSelector ? `podSelector ${selectorText(peer.podSelector)}` : 'the peer'} matches no pod in ${scope}${hint ? `; ${hint}` : ''}`,
    });
  });
  return found;
}

export function isolatingRules(policy: NetworkPolicy): PolicyRule[] {
  return [
    ...(policy.isolates.ingress ? policy.ingress : []),
    ...(policy.isolates.egress ? policy.egress : []),
  ];
}

interface Grant {
  rule: PolicyRule;
  policy: NetworkPolicy;
  external: AddressPorts;
}

/** The addresses a rule's ipBlocks admit: asked for every subject and every other rule of it, so kept. */
const ruleAddresses = new WeakMap<PolicyRule, IntervalSet<bigint>>();

function addressesOf(rule: PolicyRule): IntervalSet<bigint> {
  if (rule.peers === undefined) return ALL_ADDRESSES;
  let addresses = ruleAddresses.get(rule);
  if (!addresses) {
    addresses = normalize(
      rule.peers.flatMap((peer) => (peer.kind === 'ipBlock' ? ipBlockAddresses(peer.ipBlock) : [])),
    );
    ruleAddresses.set(rule, addresses);
  }
  return addresses;
}

/** What a rule admits from (or to) external addresses, for one subject class. */
export function externalGrant(policy: NetworkPolicy, rule: PolicyRule, subject: PodClass): Grant | undefined {
  const addresses = addressesOf(rule);
  if (addresses.length === 0) return undefined;
  // Egress named ports resolve on the destination, and an external address has none.
  const ports = portsOf(rule.ports, rule.direction === 'ingress' ? subject : undefined);
  return { rule, policy, external: { addresses, ports } };
}

/** Peer classes a rule admits, as the engine compiles them; undefined: every class (no peers). */
function ruleClasses(
  context: HygieneContext,
  matcher: PeerMatcher,
  policy: NetworkPolicy,
  rule: PolicyRule,
): ReadonlySet<number> | undefined {
  if (rule.peers === undefined) return undefined;
  return matcher.peers(policy.namespace, rule.peers, context.engine.options).classes;
}

export interface OtherRule {
  policy: NetworkPolicy;
  rule: PolicyRule;
}

/**
 * Whether, on one subject's side, everything `rule` grants (to pods and to external addresses) is
 * granted by `others` too; the overlapping ones are added to `covering`. Other rules whose peers contain
 * the rule's own (the same selector answer, or every class) apply wholesale: when the ports do not
 * depend on the peer, one comparison settles every peer, so a rule towards every namespace is never
 * compared class by class. Otherwise peers are checked one by one and the first uncovered one ends it.
 */
export function coveredBy(
  context: HygieneContext,
  matcher: PeerMatcher,
  subject: PodClass,
  mine: OtherRule,
  others: readonly OtherRule[],
  covering: Map<string, string>,
  /** The external grants of `mine` and `others` together, when the caller keeps them for the subject. */
  external?: ExternalCover,
): boolean {
  const { classes } = context.engine;
  const { policy, rule } = mine;
  const own = ruleClasses(context, matcher, policy, rule);
  const theirs = others.map((o) => ({ ...o, classes: ruleClasses(context, matcher, o.policy, o.rule) }));
  const cover = (o: OtherRule) => covering.set(rulePath(o.policy, o.rule), where(o.rule.provenance));
  const wholesale = theirs.filter((o) => o.classes === undefined || o.classes === own);
  const numeric = (r: PolicyRule) => !(r.ports ?? []).some((p) => typeof p.port === 'string');
  /** What the wholesale rules grant at a destination, and which of them overlap `granted`. */
  const fromWholesale = (granted: PortSet, destination: PodClass | undefined) => {
    let ports = NO_PORTS;
    const overlapping: OtherRule[] = [];
    for (const o of wholesale) {
      const grant = portsOf(o.rule.ports, destination);
      if (isEmptyPorts(intersectPorts(grant, granted))) continue;
      ports = unionPorts(ports, grant);
      overlapping.push(o);
    }
    return { ports, overlapping };
  };
  const peerIds = own ?? classes.map((c) => c.id);
  const egress = rule.direction === 'egress';
  let settled = false;
  if (numeric(rule) && wholesale.every((o) => numeric(o.rule))) {
    const granted = portsOf(rule.ports, undefined);
    const { ports, overlapping } = fromWholesale(granted, undefined);
    if (isEmptyPorts(subtractPorts(granted, ports))) {
      settled = true;
      for (const o of overlapping) cover(o);
    }
  }
  if (!settled) {
    for (const id of peerIds) {
      const peer = classes[id] as PodClass;
      const destination = egress ? peer : subject;
      const granted = portsOf(rule.ports, destination);
      if (isEmptyPorts(granted)) continue;
      let { ports, overlapping } = fromWholesale(granted, destination);
      if (!isEmptyPorts(subtractPorts(granted, ports))) {
        for (const o of theirs) {
          if (o.classes === undefined || o.classes === own || !o.classes.has(id)) continue;
          const grant = portsOf(o.rule.ports, destination);
          if (isEmptyPorts(intersectPorts(grant, granted))) continue;
          ports = unionPorts(ports, grant);
          overlapping = [...overlapping, o];
        }
        if (!isEmptyPorts(subtractPorts(granted, ports))) return false;
      }
      for (const o of overlapping) cover(o);
    }
  }
  const grant = externalGrant(policy, rule, subject);
  if (!grant) return true;
  if (external && !external.coveredByOthers(grant.external)) return false;
  const grants = others
    .map((o) => externalGrant(o.policy, o.rule, subject))
    .filter((g): g is Grant => g !== undefined);
  if (
    !external &&
    newExternal(
      [grant.external],
      grants.map((g) => g.external),
    ).length > 0
  )
    return false;
  for (const g of grants) {
    const overlap = intersect(g.external.addresses, grant.external.addresses);
    if (overlap.length > 0 && !isEmptyPorts(intersectPorts(g.external.ports, grant.external.ports))) cover(g);
  }
  return true;
}

/** The policies isolating a class in one direction (the same for every peer). */
export function isolatingPolicies(engine: Engine, subject: PodClass, direction: Direction): NetworkPolicy[] {
  return engine.explainSide(subject.pods[0] as Pod, { ip: '0.0.0.0' }, direction).isolatedBy;
}

/**
 * Whether, on the rule's own side, everything it grants (to pods and to external addresses) is granted
 * by other rules too, and which rules those are. Whole-connection comparisons would also call a rule
 * redundant when its peer may not send at all: that is a missing counterpart, not a redundancy.
 */
export function coveredOnItsSide(
  context: HygieneContext,
  matcher: PeerMatcher,
  policy: NetworkPolicy,
  rule: PolicyRule,
  subjects: readonly PodClass[],
  /** Kept across calls, per subject and direction: the rules of one side share one ExternalCover. */
  covers?: Map<string, { all: OtherRule[]; cover: ExternalCover }>,
): CoveringRules | undefined {
  const covering = new Map<string, string>();
  const { direction } = rule;
  for (const subject of subjects) {
    const side = () => {
      const all = isolatingPolicies(context.engine, subject, direction).flatMap((p) =>
        p[direction].map((r) => ({ policy: p, rule: r })),
      );
      const grants = all.flatMap((o) => externalGrant(o.policy, o.rule, subject)?.external ?? []);
      return { all, cover: new ExternalCover(grants) };
    };
    const key = `${subject.id}:${direction}`;
    const kept = covers?.get(key) ?? side();
    covers?.set(key, kept);
    const others = kept.all.filter((o) => o.rule !== rule);
    // The cover counts `rule` among its grants; a rule outside the subject's policies is checked alone.
    const cover = others.length < kept.all.length ? kept.cover : undefined;
    if (!coveredBy(context, matcher, subject, { policy, rule }, others, covering, cover)) return undefined;
  }
  return [...covering].map(([path, at]) => ({ rule: path, at }));
}

/** Address-port pairs in `now` and not in `then`, grouped by port set: exact, whatever the CIDR split. */
export function newExternal(now: readonly AddressPorts[], then: readonly AddressPorts[]): AddressPorts[] {
  const groups = new PortGroups();
  sweepPorts([now, then], (lo, hi, [granted, before]) =>
    groups.add(
      lo,
      hi,
      subtractPorts(unionOfActive(granted as ActivePorts), unionOfActive(before as ActivePorts)),
    ),
  );
  return groups.result();
}

/** The non-hostNetwork classes of each namespace, which policies can select. */
export function selectableClasses(engine: Engine): Map<string, PodClass[]> {
  const classesIn = new Map<string, PodClass[]>();
  for (const c of engine.classes) {
    if (c.hostNetwork) continue;
    const list = classesIn.get(c.namespace);
    if (list) list.push(c);
    else classesIn.set(c.namespace, [c]);
  }
  return classesIn;
}

export type RuleHygiene =
  /** The policy's policyTypes leave the rule's direction out, so the API server ignores the rule. */
  | { kind: 'ignored'; policy: NetworkPolicy; rule: PolicyRule; direction: Direction }
  /** Removing the rule leaves what the selected pods allow unchanged. */
  | {
      kind: 'redundant';
      policy: NetworkPolicy;
      rule: PolicyRule;
      direction: Direction;
      covering: CoveringRules;
      pods: number;
    };

/**
 * What ruleHygiene found per policy, for one engine (its classes and namespaces never change), with the
 * policies of each namespace it was found among: a policy's findings depend on the policies of its own
 * namespace alone (a NetworkPolicy selects pods there only), so after a policy change only that
 * namespace's are looked for again.
 */
interface HygieneMemo {
  among: Map<string, readonly NetworkPolicy[]>;
  found: Map<NetworkPolicy, RuleHygiene[]>;
}

const hygieneMemos = new WeakMap<Engine, HygieneMemo>();

/** Rules that are ignored or add nothing, in policy and rule order. */
export function* ruleHygiene(context: HygieneContext): Generator<RuleHygiene> {
  const { engine } = context;
  let memo = hygieneMemos.get(engine);
  if (!memo) {
    memo = { among: new Map(), found: new Map() };
    hygieneMemos.set(engine, memo);
  }
  const byNamespace = new Map<string, NetworkPolicy[]>();
  for (const policy of engine.currentPolicies) {
    const list = byNamespace.get(policy.namespace);
    if (list) list.push(policy);
    else byNamespace.set(policy.namespace, [policy]);
  }
  for (const namespace of new Set([...memo.among.keys(), ...byNamespace.keys()])) {
    const was = memo.among.get(namespace) ?? [];
    const now = byNamespace.get(namespace) ?? [];
    if (was.length === now.length && was.every((p, i) => p === now[i])) continue;
    for (const policy of was) memo.found.delete(policy);
    memo.among.set(namespace, now);
  }
  let search: PolicySearch | undefined;
  for (const policy of engine.currentPolicies) {
    let found = memo.found.get(policy);
    if (!found) {
      search ??= {
        matcher: new PeerMatcher(context.snapshot.namespaces, engine.classes),
        classesIn: selectableClasses(engine),
        covers: new Map(),
      };
      found = [...policyHygiene(context, search, policy)];
      memo.found.set(policy, found);
    }
    yield* found;
  }
}

/** What looking at the rules of several policies shares. */
interface PolicySearch {
  matcher: PeerMatcher;
  classesIn: Map<string, PodClass[]>;
  covers: Map<string, { all: OtherRule[]; cover: ExternalCover }>;
}

function* policyHygiene(
  context: HygieneContext,
  { matcher, classesIn, covers }: PolicySearch,
  policy: NetworkPolicy,
): Generator<RuleHygiene> {
  const { engine } = context;
  const subjects = (classesIn.get(policy.namespace) ?? []).filter((c) =>
    selectorMatches(policy.podSelector, c.labels),
  );
  for (const direction of ['ingress', 'egress'] as Direction[]) {
    for (const rule of policy[direction]) {
      if (!policy.isolates[direction]) {
        yield { kind: 'ignored', policy, rule, direction };
        continue;
      }
      // A policy that selects nothing, or a rule whose peers all select nothing, is reported as such.
      if (subjects.length === 0) continue;
      if (
        rule.peers?.every((p) => p.kind === 'pods') &&
        matcher.peers(policy.namespace, rule.peers, engine.options).classes.size === 0
      )
        continue;
      const covering = coveredOnItsSide(context, matcher, policy, rule, subjects, covers);
      if (!covering) continue;
      const pods = subjects.reduce((n, c) => n + c.pods.length, 0);
      yield { kind: 'redundant', policy, rule, direction, covering, pods };
    }
  }
}
