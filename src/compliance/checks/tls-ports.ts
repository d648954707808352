import { normalize } from '../../engine/intervals.ts';
import {
  formatPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import { tierRemediation } from '../remediation/rewrite-rules.ts';
import type { Check, FindingDraft } from '../types.ts';
import { connectionsOf, edgeText, phiWorkloads } from './support.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  ruleEntries,
  rulesForConnection,
  workloadIsolation,
} from './util-attribution.ts';
import { tlsServicePorts } from './util-services.ts';

/** HIPAA-NP-020: a policy shows which ports are open, not whether they carry TLS; a person must judge. */
export const check020: Check = {
  id: 'HIPAA-NP-020',
  run(context) {
    const tls: PortSet = {
      ...NO_PORTS,
      TCP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
      UDP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
      SCTP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
    };
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const marked = tlsServicePorts(context, workload);
      const trusted = unionPorts(tls, marked.ports);
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      let plain = NO_PORTS;
      for (const connection of connectionsOf(context, workload.id, 'ingress')) {
        const ports = subtractPorts(connection.ports, trusted);
        if (isEmptyPorts(ports)) continue;
        plain = unionPorts(plain, ports);
        edges.push(edgeText({ ...connection, ports }));
        responsible.push(...rulesForConnection(context, workload, connection, 'ingress', ports));
      }
      if (edges.length === 0) continue;
      const capped = cappedEdges(edges);
      const notes = [
        `ingress allowed on ${formatPorts(plain)}, outside tlsPorts [${context.config.tlsPorts.join(', ')}]`,
        ...(marked.services.length ? [`TLS marked by ${marked.services.join('; ')}`] : []),
        ...(context.snapshot.services.length === 0
          ? ['no Services in input: add them so ports marked appProtocol: https can pass']
          : []),
        ...opennessNotes(workloadIsolation(context, workload, 'ingress'), 'ingress'),
        ...capped.notes,
      ];
      findings.push({
        status: 'needs-review',
        objects: [workload.id],
        evidence: { edges: capped.edges, rules: ruleEntries(responsible), notes },
        remediation: {
          text:
            'Confirm these ports carry TLS. Where the pod terminates TLS, set appProtocol: https on the ' +
            'Service port that targets it; otherwise serve on a TLS port, or accept the finding with a reason ' +
            '(e.g. mTLS by a service mesh).' +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};
