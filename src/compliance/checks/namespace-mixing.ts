import type { Workload } from '../../model/types.ts';
import type { Check, FindingDraft } from '../types.ts';
import { isPhi, locationOf } from './support.ts';
import { phiLabelHint } from './util-scope.ts';

export const check004: Check = {
  id: 'HIPAA-NP-004',
  run(context) {
    const byNamespace = new Map<string, Workload[]>();
    for (const workload of context.snapshot.workloads) {
      const list = byNamespace.get(workload.namespace);
      if (list) list.push(workload);
      else byNamespace.set(workload.namespace, [workload]);
    }
    const findings: FindingDraft[] = [];
    for (const [namespace, workloads] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const phi = workloads.filter((w) => isPhi(context, w.id));
      const other = workloads.filter((w) => !isPhi(context, w.id));
      if (phi.length === 0 || other.length === 0) continue;
      findings.push({
        status: 'fail',
        objects: [namespace],
        evidence: {
          notes: [
            `PHI: ${phi.map((w) => `${w.id} (${context.phi.phi.get(w.id)})`).join(', ')}`,
            `not PHI: ${other.map((w) => w.id).join(', ')}`,
          ],
        },
        remediation: {
          text: `Move the non-PHI workloads out of ${namespace} into their own namespace, so that namespace-wide policies and access controls for PHI do not cover them; if they do handle PHI, label them "${phiLabelHint(context.config)}" (or label the namespace).`,
        },
        location: locationOf((other[0] as Workload).provenance),
      });
    }
    return findings;
  },
};
