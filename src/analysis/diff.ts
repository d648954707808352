import type { Endpoint } from '../engine/endpoint.ts';
import type { Engine, SideExplanation } from '../engine/engine.ts';
import { intersectPorts, isEmptyPorts, NO_PORTS, type PortSet, subtractPorts } from '../engine/ports.ts';
import { actionWord, clusterRuleId, type Direction, type Workload } from '../model/types.ts';
import { connectionChanges } from './connection-changes.ts';
import { type Connection, type ConnectionPeer, computeConnectivity } from './connectivity.ts';

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

function explainSideRules(
  engine: Engine,
  subject: Workload,
  peer: Endpoint,
  direction: Direction,
): SideRules | undefined {
  const pod = subject.pods[0];
  if (!pod) return undefined;
  const side = engine.explainSide(pod, peer, direction);
  return {
    direction,
    subject: subject.id,
    hostNetwork: side.hostNetwork,
    ports: side.ports,
    isolatedBy: [
      ...side.isolatedBy.map((p) => ({ policy: `${p.namespace}/${p.name}`, ...sourceRef(p.provenance) })),
      ...side.kindIsolatedBy.map((p) => ({ policy: p.origin.policy, ...sourceRef(p.origin.provenance) })),
    ],
    admittedBy: side.admittedBy.map((entry) => ({
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
 * workload share a template, so one stands for all in the usual case).
 */
export function responsibleIn(engine: Engine, src: ConnectionPeer, dst: ConnectionPeer): Responsible {
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
  if (srcWorkload && toDst) result.egress = explainSideRules(engine, srcWorkload, toDst, 'egress');
  const fromSrc = endpointOf(src, srcWorkload);
  if (dstWorkload && fromSrc) result.ingress = explainSideRules(engine, dstWorkload, fromSrc, 'ingress');
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
  const pairs = connectionChanges(computeConnectivity(before), computeConnectivity(after));

  const keyOf = new Map<ConnectionChange, string>();
  const changes = pairs.map(({ key, was, now }): ConnectionChange => {
    const { src, dst } = (now ?? was) as Connection;
    const beforePorts = was?.ports ?? NO_PORTS;
    const afterPorts = now?.ports ?? NO_PORTS;
    const gained = subtractPorts(afterPorts, beforePorts);
    const lost = subtractPorts(beforePorts, afterPorts);
    const phiEnds = [src, dst].flatMap((p) => ('workload' in p && phi.has(p.workload) ? [p.workload] : []));
    const responsible = { before: responsibleIn(before, src, dst), after: responsibleIn(after, src, dst) };
    const halfOpen = halfOpenOf(lost, responsible.after);
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
      responsible,
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
    partial: before.snapshot.partial || after.snapshot.partial,
  };
}

export const FAIL_ON = ['phi', 'any', 'never'] as const;
export type DiffFailOn = (typeof FAIL_ON)[number];

export function diffFails(result: DiffResult, failOn: DiffFailOn): boolean {
  if (failOn === 'never') return false;
  if (failOn === 'any') return result.changes.length > 0;
  return result.summary.phiWidening > 0;
}
