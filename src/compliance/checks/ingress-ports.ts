import { isEmptyPorts, NO_PORTS, unionPorts } from '../../engine/ports.ts';
import { PROTOCOLS } from '../../model/types.ts';
import { tierRemediation } from '../remediation/rewrite-rules.ts';
import type { Check, FindingDraft } from '../types.ts';
import { connectionsOf, edgeText, phiWorkloads } from './support.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  responsibleRef,
  ruleEntries,
  rulesForConnection,
  workloadIsolation,
} from './util-attribution.ts';

/** HIPAA-NP-014: a service listens on a few ports; all ports or a wide range admits whatever else runs. */
export const check014: Check = {
  id: 'HIPAA-NP-014',
  run(context) {
    const limit = context.config.maxPortRange;
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      const reasons = new Set<string>();
      for (const connection of connectionsOf(context, workload.id, 'ingress')) {
        let wide = NO_PORTS;
        for (const protocol of PROTOCOLS) {
          for (const [lo, hi] of connection.ports[protocol]) {
            if (lo === 1 && hi === 65535) reasons.add(`all ${protocol} ports`);
            else if (hi - lo + 1 > limit) reasons.add(`${protocol} ${lo}-${hi} (${hi - lo + 1} ports)`);
            else continue;
            wide = unionPorts(wide, { ...NO_PORTS, [protocol]: [[lo, hi]] });
          }
        }
        if (isEmptyPorts(wide)) continue;
        edges.push(edgeText(connection));
        responsible.push(...rulesForConnection(context, workload, connection, 'ingress', wide));
      }
      if (edges.length === 0) continue;
      const isolation = workloadIsolation(context, workload, 'ingress');
      const capped = cappedEdges(edges);
      const rules = ruleEntries(responsible);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules,
          notes: [
            `ingress allowed on ${[...reasons].join('; ')} (maxPortRange ${limit})`,
            ...opennessNotes(isolation, 'ingress'),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            `List the ports ${workload.id} serves in the rules that admit it${rules.length ? ` (${[...new Set(responsible.map(responsibleRef))].join(', ')})` : ''}` +
            `, each as {protocol, port}, and drop port-less entries and endPort ranges wider than ${limit}.` +
            (isolation.isolated
              ? ''
              : ' It is not ingress-isolated: first apply a default-deny (HIPAA-NP-005).') +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};
