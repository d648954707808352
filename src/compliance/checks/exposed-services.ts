import type { Check, FindingDraft } from '../types.ts';
import { connectionsOf, edgeText, locationOf } from './support.ts';
import { cappedEdges } from './util-attribution.ts';
import { type Fields, nodeExposure, objectId, phiWorkloadsOfService, specOf } from './util-services.ts';

/** HIPAA-NP-022: node-level exposure SNATs clients to node addresses, so `from` rules no longer see them. */
export const check022: Check = {
  id: 'HIPAA-NP-022',
  run(context) {
    if (context.snapshot.services.length === 0) {
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: ['no Service objects in input: add the Service manifests to assess PHI exposure'],
          },
        },
      ];
    }
    const findings: FindingDraft[] = [];
    for (const service of context.snapshot.services) {
      const spec = specOf(service);
      const exposure = nodeExposure(service);
      if (exposure === undefined) continue;
      const workloads = phiWorkloadsOfService(context, service);
      if (workloads.length === 0) continue;
      const ports = (Array.isArray(spec.ports) ? (spec.ports as Fields[]) : []).map(
        (p) =>
          `${String(p.protocol ?? 'TCP')} ${String(p.port)}${p.nodePort ? ` (nodePort ${String(p.nodePort)})` : ''}`,
      );
      const edges = workloads.flatMap((w) =>
        connectionsOf(context, w.id, 'ingress')
          .filter((c) => 'external' in c.src)
          .map(edgeText),
      );
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [objectId(service), ...workloads.map((w) => w.id)],
        evidence: {
          edges: capped.edges,
          notes: [
            `Service ${objectId(service)} is exposed by ${exposure} on ${ports.join(', ') || 'no ports'} and selects PHI: ${workloads.map((w) => w.id).join(', ')}`,
            ...(spec.externalTrafficPolicy === 'Local'
              ? []
              : ["externalTrafficPolicy is not Local: client addresses are SNAT'd to node addresses"]),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            'Make the Service type ClusterIP and publish PHI through an Ingress or gateway with TLS and ' +
            'authentication. If node-level exposure is required, set externalTrafficPolicy: Local and ' +
            'loadBalancerSourceRanges, and restrict ingress by ipBlock to those ranges.',
        },
        location: locationOf(service.provenance),
      });
    }
    return findings;
  },
};
