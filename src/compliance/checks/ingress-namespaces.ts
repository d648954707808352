import type { Connection } from '../../analysis/connectivity.ts';
import type { Workload } from '../../model/types.ts';
import { ADDITIVE_NOTE, approvedIngressYaml } from '../remediation/workload-policies.ts';
import type { Check, FindingDraft } from '../types.ts';
import { phiNamespaces } from './flow-logging.ts';
import { policyOfRule } from './open-ingress.ts';
import { connectionsOf, locationOf, phiWorkloads } from './support.ts';
import { edgesOf, MAX_REMEDIATIONS, mergeEvidence, rulesOf } from './util-evidence.ts';
import { endpointsOf, notIngressIsolated } from './util-open-ingress.ts';

export const check011: Check = {
  id: 'HIPAA-NP-011',
  run(context) {
    const allowed = new Set(context.config.allowedIngressNamespaces);
    const phiSpaces = new Set(phiNamespaces(context));
    const bySource = new Map<string, Connection[]>();
    for (const workload of phiWorkloads(context)) {
      for (const connection of connectionsOf(context, workload.id, 'ingress')) {
        if (!('workload' in connection.src)) continue;
        const namespace = context.workloadById.get(connection.src.workload)?.namespace;
        if (namespace === undefined || allowed.has(namespace) || phiSpaces.has(namespace)) continue;
        const list = bySource.get(namespace);
        if (list) list.push(connection);
        else bySource.set(namespace, [connection]);
      }
    }
    const findings: FindingDraft[] = [];
    for (const [namespace, connections] of [...bySource].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const targets = [...new Set(connections.map((c) => ('workload' in c.dst ? c.dst.workload : '')))]
        .map((id) => context.workloadById.get(id))
        .filter((w): w is Workload => w !== undefined);
      const rules = connections.flatMap((c) => {
        const target = 'workload' in c.dst ? context.workloadById.get(c.dst.workload) : undefined;
        const peer = endpointsOf(context, c.src)[0];
        return target && peer ? rulesOf(context, target, peer, 'ingress') : [];
      });
      const unisolated = targets.filter((w) => notIngressIsolated(context, w));
      const notes = [
        `${namespace} is not in allowedIngressNamespaces (${[...allowed].join(', ') || 'empty'}) and holds no PHI, yet reaches ${targets.length} PHI workload(s): ${targets
          .slice(0, 10)
          .map((w) => w.id)
          .join(', ')}${targets.length > 10 ? ', …' : ''}`,
      ];
      if (unisolated.length > 0)
        notes.push(
          `not ingress-isolated, so reachable from everywhere: ${unisolated.map((w) => w.id).join(', ')}`,
        );
      const evidence = mergeEvidence({ rules, notes }, edgesOf(connections));
      const firstRule = evidence.rules?.[0];
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence,
        remediation: {
          text: `Stop ${namespace} from reaching PHI: remove or narrow the rules cited; the policies below admit into each PHI workload reached only the sources and ports approvedFlows names and the PHI workloads that reach it now${
            targets.length > MAX_REMEDIATIONS
              ? ` (the first ${MAX_REMEDIATIONS} of ${targets.length}, the others take the same shape)`
              : ''
          }. If ${namespace} must reach PHI, add it to allowedIngressNamespaces and its flows to approvedFlows. ${ADDITIVE_NOTE}.`,
          yaml: targets
            .slice(0, MAX_REMEDIATIONS)
            .map((w) => approvedIngressYaml(context, w))
            .join('---\n'),
        },
        location: locationOf(policyOfRule(context, firstRule) ?? (targets[0] as Workload).provenance),
      });
    }
    return findings;
  },
};
