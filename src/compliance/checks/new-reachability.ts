import { type Connection, peerName } from '../../analysis/connectivity.ts';
import { newExternal } from '../../analysis/policy-hygiene.ts';
import type { AddressPorts } from '../../engine/address-partition.ts';
import { toCidrs } from '../../engine/addresses.ts';
import { formatPorts, isEmptyPorts, NO_PORTS, type PortSet, subtractPorts } from '../../engine/ports.ts';
import type { Direction } from '../../model/types.ts';
import type { Check, Evidence } from '../types.ts';
import { addressSet, isPhi, locationOf, phiWorkloads, ruleEvidence } from './support.ts';

// HIPAA-NP-030: new reachability since the baseline

function externalGrants(
  connections: readonly Connection[],
  workloadId: string,
  direction: Direction,
): AddressPorts[] {
  return connections.flatMap((c) => {
    const [self, other] = direction === 'ingress' ? [c.dst, c.src] : [c.src, c.dst];
    if (!('workload' in self) || self.workload !== workloadId || !('external' in other)) return [];
    return [{ addresses: addressSet(other.external), ports: c.ports }];
  });
}

const pairKey = (c: Connection) => `${peerName(c.src)}\0${peerName(c.dst)}`;

export const newReachability: Check = {
  id: 'HIPAA-NP-030',
  run(context) {
    const { baseline } = context;
    if (!baseline) {
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: ['no approved baseline snapshot given: run with `--baseline PATH` to compare against one'],
          },
        },
      ];
    }
    const before = new Map<string, PortSet>();
    for (const c of baseline) {
      if ('workload' in c.src && 'workload' in c.dst) before.set(pairKey(c), c.ports);
    }
    const byPhi = new Map<string, { edges: string[]; rules: NonNullable<Evidence['rules']> }>();
    const entry = (id: string) => {
      let found = byPhi.get(id);
      if (!found) {
        found = { edges: [], rules: [] };
        byPhi.set(id, found);
      }
      return found;
    };
    for (const c of context.connections) {
      if (!('workload' in c.src && 'workload' in c.dst)) continue;
      const src = c.src.workload;
      const dst = c.dst.workload;
      if (!isPhi(context, src) && !isPhi(context, dst)) continue;
      const added = subtractPorts(c.ports, before.get(pairKey(c)) ?? NO_PORTS);
      if (isEmptyPorts(added)) continue;
      const target = entry(isPhi(context, dst) ? dst : src);
      target.edges.push(`${src} -> ${dst} ${formatPorts(added)}`);
      const srcWorkload = context.workloadById.get(src);
      const dstWorkload = context.workloadById.get(dst);
      if (srcWorkload?.pods[0] && dstWorkload?.pods[0]) {
        target.rules.push(
          ...(ruleEvidence(context, dstWorkload, { pod: srcWorkload.pods[0] }, 'ingress') ?? []),
          ...(ruleEvidence(context, srcWorkload, { pod: dstWorkload.pods[0] }, 'egress') ?? []),
        );
      }
    }
    for (const workload of phiWorkloads(context)) {
      for (const direction of ['ingress', 'egress'] as Direction[]) {
        const added = newExternal(
          externalGrants(context.connections, workload.id, direction),
          externalGrants(baseline, workload.id, direction),
        );
        for (const { addresses, ports } of added) {
          const cidrs = toCidrs(addresses).join(',');
          entry(workload.id).edges.push(
            direction === 'ingress'
              ? `${cidrs} -> ${workload.id} ${formatPorts(ports)}`
              : `${workload.id} -> ${cidrs} ${formatPorts(ports)}`,
          );
        }
      }
    }
    return [...byPhi].map(([id, { edges, rules }]) => {
      const unique = [...new Map(rules.map((r) => [`${r.rule} ${r.at}`, r])).values()];
      const workload = context.workloadById.get(id);
      return {
        status: 'fail' as const,
        objects: [id],
        evidence: {
          edges,
          rules: unique,
          notes: [`${edges.length} flow(s) into or out of ${id} that the approved baseline did not allow`],
        },
        location: workload ? locationOf(workload.provenance) : undefined,
        remediation: {
          text: 'Review each new flow: approve it by taking a new baseline after sign-off, or narrow the policies that admit it (the rules listed).',
        },
      };
    });
  },
};
