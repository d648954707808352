import type { Endpoint, EngineOptions } from '../engine/endpoint.ts';
import { Engine, type SideExplanation } from '../engine/engine.ts';
import { intersectPorts, isEmptyPorts, NO_PORTS, type PortSet, subtractPorts } from '../engine/ports.ts';
import {
  actionWord,
  clusterRuleId,
  type Direction,
  type NetworkPolicy,
  type PolicyRule,
  type Snapshot,
  type Workload,
} from '../model/types.ts';
import { type ConnectionDelta, connectionChanges } from './connection-changes.ts';
import {
  type Connection,
  type ConnectionPeer,
  computeConnectivity,
  updateConnectivity,
} from './connectivity.ts';
import { applyPolicyChanges, type PolicyChange, policyChanges, sameMeaning } from './policy-changes.ts';

export type ChangeKind = 'added' | 'removed' | 'changed';

/** Where a policy or rule sits, as `file:line` and in parts for SARIF. */
export interface SourceRef {
  at: string;
  file: string;
  line: number;
}

/** One direction of a connection as one engine sees it, reduced to names and positions. */
export interface SideRules
  extends Omit<
    SideExplanation,
    'isolatedBy' | 'admittedBy' | 'tiers' | 'chain' | 'kindSteps' | 'kindIsolatedBy'
  > {
  direction: Direction;
  /** The workload whose policies decide this side. */
  subject: string;
  isolatedBy: ({ policy: string } & SourceRef)[];
  /** `ns/policy#spec.ingress[0]`. */
  admittedBy: ({ rule: string; ports: PortSet; byIpBlock: boolean } & SourceRef)[];
  /** Which tier decided which ports, when cluster policies select the subject. */
  tiers: ({ tier: string; action: string; rule?: string; ports: PortSet } & Partial<SourceRef>)[];
}

/** Why a connection was (or was not) allowed in one snapshot. */
export interface Responsible {
  egress?: SideRules;
  ingress?: SideRules;
  /** Workload ends of the connection that this snapshot does not contain. */
  missing: string[];
}

/** One side still allows ports that the other side no longer does: traffic leaves and is dropped. */
export interface HalfOpen {
  /** The side that still allows the lost ports. */
  openSide: Direction;
  ports: PortSet;
}

export interface ConnectionChange {
  kind: ChangeKind;
  src: ConnectionPeer;
  dst: ConnectionPeer;
  before: PortSet;
  after: PortSet;
  gained: PortSet;
  lost: PortSet;
  /** PHI workloads at either end (PHI in either snapshot). */
  phi: string[];
  /** Gains reachability into or out of PHI: what `--fail-on phi` fails on. */
  phiWidening: boolean;
  halfOpen?: HalfOpen;
  responsible: { before: Responsible; after: Responsible };
}

export interface DiffSummary {
  added: number;
  removed: number;
  changed: number;
  phi: number;
  phiWidening: number;
}

export interface DiffResult {
  changes: ConnectionChange[];
  summary: DiffSummary;
  /** Either snapshot left invalid objects out, so the diff may be incomplete. */
  partial: boolean;
}

function sourceRef(provenance: { file: string; locate(): { line: number } }): SourceRef {
  const line = provenance.locate().line;
  return { at: `${provenance.file}:${line}`, file: provenance.file, line };
}

/** A representative address of an external block; any address inside it gets the same answer. */
function addressOf(peer: { external: string[] }): string | undefined {
  return peer.external[0]?.split('/')[0];
}

/**
 * The NetworkPolicies of the snapshot an explanation is about, for an engine whose policies were
 * swapped in place: an engine holds unchanged policies as read from the other input, and keeps
 * policies added or restored after the others, where the snapshot has them in input order.
 */
class PolicySide {
  private readonly byKey: Map<string, { policy: NetworkPolicy; at: number }>;

  constructor(snapshot: Snapshot) {
    this.byKey = new Map(
      snapshot.policies.map((policy, at) => [`${policy.namespace}/${policy.name}`, { policy, at }]),
    );
  }

  private entry(policy: NetworkPolicy): { policy: NetworkPolicy; at: number } {
    const found = this.byKey.get(`${policy.namespace}/${policy.name}`);
    if (!found) throw new Error(`policy ${policy.namespace}/${policy.name} is not in the snapshot explained`);
    return found;
  }

  policy(policy: NetworkPolicy): NetworkPolicy {
    return this.entry(policy).policy;
  }

  rule(policy: NetworkPolicy, rule: PolicyRule): PolicyRule {
    const found = this.policy(policy)[rule.direction].find((r) => r.index === rule.index);
    if (!found)
      throw new Error(`${policy.namespace}/${policy.name} has no ${rule.direction}[${rule.index}] here`);
    return found;
  }

  /** In the snapshot's order, which the engine's own order is within one policy. */
  sorted<T>(items: readonly T[], policyOf: (item: T) => NetworkPolicy): T[] {
    return items
      .map((item, i) => ({ item, at: this.entry(policyOf(item)).at, i }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map(({ item }) => item);
  }
}

function explainSideRules(
  engine: Engine,
  subject: Workload,
  peer: Endpoint,
  direction: Direction,
  policies: PolicySide | undefined,
): SideRules | undefined {
  const pod = subject.pods[0];
  if (!pod) return undefined;
  const side = engine.explainSide(pod, peer, direction);
  const isolatedBy = policies
    ? policies.sorted(side.isolatedBy, (p) => p).map((p) => policies.policy(p))
    : side.isolatedBy;
  const admittedBy = policies
    ? policies
        .sorted(side.admittedBy, (entry) => entry.policy)
        .map((entry) => ({ ...entry, rule: policies.rule(entry.policy, entry.rule) }))
    : side.admittedBy;
  return {
    direction,
    subject: subject.id,
    hostNetwork: side.hostNetwork,
    ports: side.ports,
    isolatedBy: [
      ...isolatedBy.map((p) => ({ policy: `${p.namespace}/${p.name}`, ...sourceRef(p.provenance) })),
      ...side.kindIsolatedBy.map((p) => ({ policy: p.origin.policy, ...sourceRef(p.origin.provenance) })),
    ],
    admittedBy: admittedBy.map((entry) => ({
      rule: `${entry.policy.namespace}/${entry.policy.name}#spec.${entry.rule.direction}[${entry.rule.index}]`,
      ports: entry.ports,
      byIpBlock: entry.byIpBlock,
      ...sourceRef(entry.rule.provenance),
    })),
    tiers: side.tiers
      .map((step) =>
        step.rule
          ? {
              tier: step.tier,
              action: actionWord(step.rule.policy, step.action),
              rule: clusterRuleId(step.rule.policy, step.rule.rule),
              ports: step.ports,
              ...sourceRef(step.rule.rule.provenance),
            }
          : { tier: step.tier, action: step.action, ports: step.ports },
      )
      .concat(
        side.kindSteps.map((step) => ({
          tier: 'NetworkPolicy',
          action: step.action,
          rule: step.rule.origin.note
            ? `${step.rule.origin.rule} [${step.rule.origin.note}]`
            : step.rule.origin.rule,
          ports: step.ports,
          ...sourceRef(step.rule.origin.provenance),
        })),
      ),
  };
}

/**
 * The rules of one snapshot that decide a connection, read on one pod of each workload (pods of a
 * workload share a template, so one stands for all in the usual case). `policies`: the snapshot
 * explained, when the engine's policies were swapped in place from another.
 */
export function responsibleIn(
  engine: Engine,
  src: ConnectionPeer,
  dst: ConnectionPeer,
  policies?: PolicySide,
): Responsible {
  const byId = (peer: ConnectionPeer) =>
    'workload' in peer ? engine.snapshot.workloads.find((w) => w.id === peer.workload) : undefined;
  const [srcWorkload, dstWorkload] = [byId(src), byId(dst)];
  const missing = [
    ...('workload' in src && !srcWorkload ? [src.workload] : []),
    ...('workload' in dst && !dstWorkload ? [dst.workload] : []),
  ];
  const endpointOf = (peer: ConnectionPeer, workload: Workload | undefined): Endpoint | undefined => {
    if ('external' in peer) {
      const ip = addressOf(peer);
      return ip === undefined ? undefined : { ip };
    }
    const pod = workload?.pods[0];
    return pod ? { pod } : undefined;
  };
  const result: Responsible = { missing };
  const toDst = endpointOf(dst, dstWorkload);
  if (srcWorkload && toDst) result.egress = explainSideRules(engine, srcWorkload, toDst, 'egress', policies);
  const fromSrc = endpointOf(src, srcWorkload);
  if (dstWorkload && fromSrc)
    result.ingress = explainSideRules(engine, dstWorkload, fromSrc, 'ingress', policies);
  return result;
}

function halfOpenOf(lost: PortSet, after: Responsible): HalfOpen | undefined {
  if (isEmptyPorts(lost) || !after.egress || !after.ingress) return undefined;
  const { egress, ingress } = after;
  const egressOnly = subtractPorts(intersectPorts(lost, egress.ports), ingress.ports);
  if (!isEmptyPorts(egressOnly)) return { openSide: 'egress', ports: egressOnly };
  const ingressOnly = subtractPorts(intersectPorts(lost, ingress.ports), egress.ports);
  if (!isEmptyPorts(ingressOnly)) return { openSide: 'ingress', ports: ingressOnly };
  return undefined;
}

const KIND_ORDER: Record<ChangeKind, number> = { added: 0, changed: 1, removed: 2 };

/**
 * What changed in what the policies allow between two snapshots: connections added, removed, and
 * changed in their ports, each with the rules that decide it before and after. External ends are
 * compared address by address (see connection-changes.ts). `phi` lists PHI workload ids; changes
 * touching them come first, those that widen reachability first of all.
 */
export function diffConnectivity(before: Engine, after: Engine, phi: ReadonlySet<string>): DiffResult {
  return diffOfEngines(before, computeConnectivity(before), after, phi);
}

/**
 * diffConnectivity, given the connectivity `before` allows; `policies`, the first snapshot, when
 * changes applied in place and reverted left the first engine's policies in another order.
 */
function diffOfEngines(
  before: Engine,
  was: readonly Connection[],
  after: Engine,
  phi: ReadonlySet<string>,
  policies?: PolicySide,
): DiffResult {
  const pairs = connectionChanges(was, computeConnectivity(after));
  return diffOf(
    pairs,
    pairs.map(({ was, now }) => {
      const { src, dst } = (now ?? was) as Connection;
      return { before: responsibleIn(before, src, dst, policies), after: responsibleIn(after, src, dst) };
    }),
    phi,
    before.snapshot.partial || after.snapshot.partial,
  );
}

/**
 * diffConnectivity of two snapshots. When they differ in NetworkPolicies alone (a change to the
 * policies, the usual pull request), one engine serves both: see diffInPlace. Otherwise, or when a
 * change needs a new engine, each snapshot gets its own.
 */
export function diffSnapshots(
  before: Snapshot,
  after: Snapshot,
  phi: ReadonlySet<string>,
  options?: EngineOptions,
): DiffResult {
  const engine = new Engine(before, options);
  const changes = policyChangesBetween(before, after);
  if (!changes) return diffOfEngines(engine, computeConnectivity(engine), new Engine(after, options), phi);
  return (
    diffInPlace(engine, changes, after, phi) ??
    diffOfEngines(
      engine,
      computeConnectivity(engine),
      new Engine(after, options),
      phi,
      new PolicySide(before),
    )
  );
}

/**
 * The NetworkPolicy changes that make `after` from `before`, when nothing else the engine reads
 * differs; undefined otherwise. Explanations of Admin/Baseline, Cilium and Calico policies cite the
 * engine's own objects, which would be the first input's: inputs holding any are left to two engines.
 */
export function policyChangesBetween(before: Snapshot, after: Snapshot): PolicyChange[] | undefined {
  const tiered = (s: Snapshot) =>
    s.clusterPolicies.length > 0 || s.ciliumPolicies.length > 0 || s.calico !== undefined;
  if (tiered(before) || tiered(after)) return undefined;
  const read = (s: Snapshot) => [
    s.namespaces,
    s.pods,
    s.workloads,
    s.nodes,
    s.ciliumCidrGroups,
    s.services,
    s.ingresses,
  ];
  return sameMeaning(read(before), read(after)) ? policyChanges(before.policies, after.policies) : undefined;
}

/**
 * The diff on the engine of the first snapshot, whose policies `changes` turn into `after`'s: its
 * connectivity, then the changes applied in place (Engine.replacePolicy) and only what they touch
 * computed again (updateConnectivity), as verify-fixes does. The rules are read with the changes
 * applied, mapped onto `after`'s policies, then once reverted. Undefined, the engine as it was, when
 * a change needs a new engine (an ipBlock edge that could split pod classes).
 */
export function diffInPlace(
  engine: Engine,
  changes: readonly PolicyChange[],
  after: Snapshot,
  phi: ReadonlySet<string>,
): DiffResult | undefined {
  const changed = changedConnections(engine, changes);
  if (!changed) return undefined;
  const { pairs, revert } = changed;
  const peers = pairs.map(({ was, now }) => (now ?? was) as Connection);
  const nowSide = new PolicySide(after);
  const responsibleAfter = peers.map(({ src, dst }) => responsibleIn(engine, src, dst, nowSide));
  revert();
  const wasSide = new PolicySide(engine.snapshot);
  const responsible = peers.map(({ src, dst }, i) => ({
    before: responsibleIn(engine, src, dst, wasSide),
    after: responsibleAfter[i] as Responsible,
  }));
  return diffOf(pairs, responsible, phi, engine.snapshot.partial || after.partial);
}

/**
 * The connection changes the policy changes make, applied in place (`revert` undoes them); undefined,
 * the engine as it was, when one needs a new engine. Both listings die here: only their differences
 * are kept.
 */
function changedConnections(
  engine: Engine,
  changes: readonly PolicyChange[],
): { pairs: ConnectionDelta[]; revert: () => void } | undefined {
  const was = computeConnectivity(engine);
  const result = applyPolicyChanges(engine, changes);
  if ('undone' in result) return undefined;
  const now = updateConnectivity(engine, was, result.applied).connections;
  return { pairs: connectionChanges(was, now), revert: result.applied.revert };
}

/** The diff of the connection changes `pairs`, with the rules that decide each (`responsible`, in step). */
function diffOf(
  pairs: readonly ConnectionDelta[],
  responsible: readonly ConnectionChange['responsible'][],
  phi: ReadonlySet<string>,
  partial: boolean,
): DiffResult {
  const keyOf = new Map<ConnectionChange, string>();
  const changes = pairs.map(({ key, was, now }, i): ConnectionChange => {
    const { src, dst } = (now ?? was) as Connection;
    const beforePorts = was?.ports ?? NO_PORTS;
    const afterPorts = now?.ports ?? NO_PORTS;
    const gained = subtractPorts(afterPorts, beforePorts);
    const lost = subtractPorts(beforePorts, afterPorts);
    const phiEnds = [src, dst].flatMap((p) => ('workload' in p && phi.has(p.workload) ? [p.workload] : []));
    const halfOpen = halfOpenOf(lost, (responsible[i] as ConnectionChange['responsible']).after);
    const change: ConnectionChange = {
      kind: !was ? 'added' : !now ? 'removed' : 'changed',
      src,
      dst,
      before: beforePorts,
      after: afterPorts,
      gained,
      lost,
      phi: phiEnds,
      phiWidening: phiEnds.length > 0 && !isEmptyPorts(gained),
      ...(halfOpen ? { halfOpen } : {}),
      responsible: responsible[i] as ConnectionChange['responsible'],
    };
    keyOf.set(change, key);
    return change;
  });
  const rank = (c: ConnectionChange) => (c.phiWidening ? 0 : c.phi.length > 0 ? 1 : 2);
  changes.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      ((keyOf.get(a) as string) < (keyOf.get(b) as string) ? -1 : 1),
  );
  const count = (kind: ChangeKind) => changes.filter((c) => c.kind === kind).length;
  return {
    changes,
    summary: {
      added: count('added'),
      removed: count('removed'),
      changed: count('changed'),
      phi: changes.filter((c) => c.phi.length > 0).length,
      phiWidening: changes.filter((c) => c.phiWidening).length,
    },
    partial,
  };
}

export const FAIL_ON = ['phi', 'any', 'never'] as const;
export type DiffFailOn = (typeof FAIL_ON)[number];

export function diffFails(result: DiffResult, failOn: DiffFailOn): boolean {
  if (failOn === 'never') return false;
  if (failOn === 'any') return result.changes.length > 0;
  return result.summary.phiWidening > 0;
}
