import { isEmptyPorts, subtractPorts } from '../../engine/ports.ts';
import { tierRemediation } from '../remediation/rewrite-rules.ts';
import type { Check } from '../types.ts';
import { connectionsOf, edgeText } from './support.ts';
import { allowedEgressOf } from './util-addresses.ts';
import { type Responsible, rulesForWorkload } from './util-attribution.ts';
import { DNS_PORTS, isClusterDns } from './util-dns.ts';
import { egressFindings } from './util-egress.ts';

/** HIPAA-NP-019: PHI calling into other namespaces is ePHI movement the organisation must have approved. */
export const check019: Check = {
  id: 'HIPAA-NP-019',
  run(context) {
    const allowed = allowedEgressOf(context).namespaces;
    return egressFindings(
      context,
      (workload) => {
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
        const note = `reaches namespaces outside allowedEgress: ${[...namespaces].sort().join(', ')}`;
        return { edges, responsible, note };
      },
      (workload, _isolation, responsible) => ({
        text:
          `Narrow the rules listed to the namespaces and pods ${workload.id} must call, selecting namespaces ` +
          'by kubernetes.io/metadata.name; add approved destinations to allowedEgress in phiwall.yaml.' +
          tierRemediation(responsible),
      }),
    );
  },
};
