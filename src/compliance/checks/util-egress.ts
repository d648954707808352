import type { Connection } from '../../analysis/connectivity.ts';
import { toCidrs } from '../../engine/addresses.ts';
import { type IntervalSet, intersect, union } from '../../engine/intervals.ts';
import type { Workload } from '../../model/types.ts';
import type { AuditContext, FindingDraft, Remediation } from '../types.ts';
import { addressSet, connectionsOf, edgeText, phiWorkloads } from './support.ts';
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
        rules: ruleEntries(hit.responsible),
        notes: [hit.note, ...opennessNotes(isolation, 'egress'), ...capped.notes],
      },
      remediation: remedy(workload, isolation, hit.responsible),
      location: findingLocation(hit.responsible, workload),
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
