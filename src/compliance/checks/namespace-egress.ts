import { isEmptyPorts, subtractPorts } from '../../engine/ports.ts';
import { tierRemediation } from '../remediation/rewrite-rules.ts';
import type { Check, FindingDraft } from '../types.ts';
import { connectionsOf, edgeText, phiWorkloads } from './support.ts';
import { allowedEgressOf } from './util-addresses.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  ruleEntries,
  rulesForWorkload,
  workloadIsolation,
} from './util-attribution.ts';
import { DNS_PORTS, isClusterDns } from './util-dns.ts';

/** HIPAA-NP-019: PHI calling into other namespaces is ePHI movement the organisation must have approved. */
export const check019: Check = {
  id: 'HIPAA-NP-019',
  run(context) {
    const allowed = allowedEgressOf(context).namespaces;
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      const namespaces = new Set<string>();
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        if (!('workload' in connection.dst)) continue;
        const target = context.workloadById.get(connection.dst.workload);
        if (!target || target.namespace === workload.namespace || allowed.has(target.namespace)) continue;
        // A flow between PHI workloads stays inside the ePHI boundary; 011 and 012 govern its ingress side.
        if (context.phi.phi.has(target.id)) continue;
        // DNS to the cluster DNS pods is how every pod resolves names, not a flow of ePHI.
        const ports = isClusterDns(target) ? subtractPorts(connection.ports, DNS_PORTS) : connection.ports;
        if (isEmptyPorts(ports)) continue;
        namespaces.add(target.namespace);
        edges.push(edgeText({ ...connection, ports }));
        responsible.push(...rulesForWorkload(context, workload, target, 'egress', ports));
      }
      if (edges.length === 0) continue;
      const isolation = workloadIsolation(context, workload, 'egress');
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules: ruleEntries(responsible),
          notes: [
            `reaches namespaces outside allowedEgress: ${[...namespaces].sort().join(', ')}`,
            ...opennessNotes(isolation, 'egress'),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            `Narrow the rules listed to the namespaces and pods ${workload.id} must call, selecting namespaces ` +
            'by kubernetes.io/metadata.name; add approved destinations to allowedEgress in phiwall.yaml.' +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};
