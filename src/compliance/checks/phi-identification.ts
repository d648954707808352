import type { Check, FindingDraft } from '../types.ts';
import { locationOf } from './support.ts';
import { phiLabelHint } from './util-scope.ts';

export const check001: Check = {
  id: 'HIPAA-NP-001',
  run(context) {
    const findings: FindingDraft[] = [];
    const hint = phiLabelHint(context.config);
    if (context.phi.phi.size === 0) {
      const selectors = context.config.phi.selectors
        .map((s) => `${s.key} in (${s.values.join(', ')})`)
        .join('; ');
      findings.push({
        status: 'fail',
        objects: [],
        evidence: {
          notes: [
            `no Namespace or pod (template) carries a PHI label (${selectors}, any key prefix) among ${context.snapshot.workloads.length} workload(s)`,
            'without PHI workloads the other checks have nothing to hold to the safeguards: the audit is not assessable',
            `label each Namespace that holds PHI with "${hint}" (or the pod templates of the workloads that do)`,
          ],
        },
        remediation: {
          text: `Label the Namespaces (or pod templates) that store or process ePHI with "${hint}", then audit again.`,
        },
      });
    }
    for (const id of context.phi.annotationOnly) {
      const workload = context.workloadById.get(id);
      findings.push({
        status: 'needs-review',
        objects: [id],
        evidence: {
          notes: [
            `${id} carries a PHI marker only as an annotation; NetworkPolicies select by labels, so it is not treated as PHI`,
          ],
        },
        remediation: {
          text: `If ${id} holds PHI, set "${hint}" as a pod template label (or on its Namespace); otherwise remove the annotation.`,
        },
        location: workload ? locationOf(workload.provenance) : undefined,
      });
    }
    return findings;
  },
};
