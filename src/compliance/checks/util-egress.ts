import { type Connection, isNamedPeer, peerName } from '../../analysis/connectivity.ts';
import { namedPeers, nameMatches } from '../../analysis/named-peers.ts';
import { toCidrs } from '../../engine/addresses.ts';
import { type IntervalSet, intersect, union } from '../../engine/intervals.ts';
import { formatPorts } from '../../engine/ports.ts';
import type { Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Evidence, FindingDraft, Remediation } from '../types.ts';
import { addressSet, connectionsOf, edgeText, locationOf, onePodPerClass, phiWorkloads } from './support.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  ruleEntries,
  type WorkloadIsolation,
  workloadIsolation,
} from './util-attribution.ts';

/** What one egress check found for a PHI workload: the edges, the rules behind them and what they mean. */
export interface EgressHit {
  edges: string[];
  responsible: Responsible[];
  note: string;
  /** Rules of other kinds behind the edges (Cilium's toFQDNs rules), as evidence. */
  kindRules?: NonNullable<Evidence['rules']>;
  /** Where the finding points when no NetworkPolicy or tier rule is responsible. */
  kindLocation?: { file: string; line: number };
}

/**
 * The shape every egress check (016 to 019) shares: a failing finding per PHI workload with a hit, its
 * edges capped, its openness stated and its fix chosen by how the workload is isolated.
 */
export function egressFindings(
  context: AuditContext,
  hitOf: (workload: Workload) => EgressHit | undefined,
  remedy: (
    workload: Workload,
    isolation: WorkloadIsolation,
    responsible: readonly Responsible[],
  ) => Remediation,
): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const workload of phiWorkloads(context)) {
    const hit = hitOf(workload);
    if (!hit || hit.edges.length === 0) continue;
    const isolation = workloadIsolation(context, workload, 'egress');
    const capped = cappedEdges(hit.edges);
    findings.push({
      status: 'fail',
      objects: [workload.id],
      evidence: {
        edges: capped.edges,
        rules: [...ruleEntries(hit.responsible), ...(hit.kindRules ?? [])],
        notes: [hit.note, ...opennessNotes(isolation, 'egress'), ...capped.notes],
      },
      remediation: remedy(workload, isolation, hit.responsible),
      location:
        hit.responsible.length === 0 && hit.kindLocation
          ? hit.kindLocation
          : findingLocation(hit.responsible, workload),
    });
  }
  return findings;
}

/**
 * The external addresses of `targets` a workload's egress reaches, with one edge per connection: the
 * connection's block as the engine reports it (`whole`; a remainder as CIDRs can run to hundreds), or
 * only the part inside the targets.
 */
export function externalReach(
  context: AuditContext,
  workload: Workload,
  targets: IntervalSet<bigint>,
  shown: 'whole' | 'hit',
): { edges: string[]; reached: IntervalSet<bigint> } {
  const edges: string[] = [];
  let reached: IntervalSet<bigint> = [];
  for (const connection of connectionsOf(context, workload.id, 'egress')) {
    if (!('external' in connection.dst)) continue;
    const hit = intersect(addressSet(connection.dst.external), targets);
    if (hit.length === 0) continue;
    reached = union(reached, hit);
    const edge: Connection =
      shown === 'whole' ? connection : { ...connection, dst: { external: toCidrs(hit) } };
    edges.push(edgeText(edge));
  }
  return { edges, reached };
}

/** A workload's egress to names (Cilium's toFQDNs) outside allowedEgress, with the rules naming them. */
export interface NamedEgress {
  names: string[];
  edges: string[];
  rules: NonNullable<Evidence['rules']>;
  location?: { file: string; line: number };
}

/**
 * Egress to peers known by name only: whatever a name resolves to lies outside the cluster. A name is
 * approved when an allowedEgress `fqdn:` entry is the same pattern or covers it (`fqdn:*.example.com`
 * covers `fqdn:api.example.com`).
 */
export function namedEgress(
  context: AuditContext,
  workload: Workload,
  approved: readonly string[],
): NamedEgress {
  const names = new Set<string>();
  const edges: string[] = [];
  for (const connection of connectionsOf(context, workload.id, 'egress')) {
    if (!isNamedPeer(connection.dst)) continue;
    const name = peerName(connection.dst);
    if (approved.some((pattern) => nameMatches(pattern, name))) continue;
    names.add(name);
    edges.push(edgeText(connection));
  }
  const rules = new Map<string, NonNullable<Evidence['rules']>[number]>();
  let location: NamedEgress['location'];
  for (const pod of names.size > 0 ? onePodPerClass(context, workload) : []) {
    for (const peer of namedPeers(context.engine, context.engine.classOf(pod))) {
      if (!names.has(peer.name)) continue;
      for (const { rule, ports } of peer.grantedBy) {
        const text = `${rule.rule} toFQDNs ${peer.name} (${formatPorts(ports)})`;
        rules.set(text, { rule: text, at: where(rule.provenance) });
        location ??= locationOf(rule.provenance);
      }
    }
  }
  return { names: [...names].sort(), edges, rules: [...rules.values()], ...(location ? { location } : {}) };
}
