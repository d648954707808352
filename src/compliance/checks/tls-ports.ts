import { normalize, subtract } from '../../engine/intervals.ts';
import {
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import type { Workload } from '../../model/types.ts';
import { tierRemediation } from '../remediation/rewrite-rules.ts';
import type { AuditContext, Check, FindingDraft } from '../types.ts';
import { addressSet, connectionsOf, edgeText, NON_PUBLIC_ADDRESSES, phiWorkloads } from './support.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  ruleEntries,
  rulesForConnection,
  workloadIsolation,
} from './util-attribution.ts';
import { publishedPorts, tlsServicePorts } from './util-services.ts';

/** Ports on which the workload accepts ingress from public addresses (HIPAA-NP-009's reading). */
function publicIngressPorts(context: AuditContext, workload: Workload): PortSet {
  let ports = NO_PORTS;
  for (const connection of connectionsOf(context, workload.id, 'ingress')) {
    if (!('external' in connection.src)) continue;
    if (subtract(addressSet(connection.src.external), NON_PUBLIC_ADDRESSES).length === 0) continue;
    ports = unionPorts(ports, connection.ports);
  }
  return ports;
}

/**
 * HIPAA-NP-020: a policy shows which ports are open, not whether they carry TLS; a person must judge,
 * except where a port outside tlsPorts is published outside the cluster (021, 022, 009): that fails.
 */
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
      // Published outside the cluster on a port no one vouches for: cleartext ePHI on the internet is
      // no longer a judgement call.
      const published = publishedPorts(context, workload);
      const exposed = unionPorts(
        intersectPorts(published.ports, plain),
        intersectPorts(publicIngressPorts(context, workload), plain),
      );
      const capped = cappedEdges(edges);
      const notes = [
        `ingress allowed on ${formatPorts(plain)}, outside tlsPorts [${context.config.tlsPorts.join(', ')}]`,
        ...(marked.services.length ? [`TLS marked by ${marked.services.join('; ')}`] : []),
        ...(isEmptyPorts(exposed)
          ? []
          : [
              `published outside the cluster on ${formatPorts(exposed)}, outside tlsPorts${published.services.length ? `: ${published.services.join('; ')}` : ': ingress from public addresses'}`,
            ]),
        ...(context.snapshot.services.length === 0
          ? ['no Services in input: add them so ports marked appProtocol: https can pass']
          : []),
        ...opennessNotes(workloadIsolation(context, workload, 'ingress'), 'ingress'),
        ...capped.notes,
      ];
      findings.push({
        status: isEmptyPorts(exposed) ? 'needs-review' : 'fail',
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
