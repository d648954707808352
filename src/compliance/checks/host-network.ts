import type { Check, FindingDraft } from '../types.ts';
import { locationOf, phiWorkloads } from './support.ts';

/** HIPAA-NP-023: a hostNetwork pod shares the node's network namespace, where pod policies do not apply. */
export const check023: Check = {
  id: 'HIPAA-NP-023',
  run(context) {
    return phiWorkloads(context).flatMap((workload): FindingDraft[] => {
      const pods = workload.pods.filter((p) => p.hostNetwork);
      if (pods.length === 0) return [];
      return [
        {
          status: 'fail',
          objects: [workload.id],
          evidence: {
            notes: [
              `spec.hostNetwork: true on ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ')} (${context.phi.phi.get(workload.id)})`,
              `its traffic is the node's: ${context.engine.options.hostNetwork === 'node' ? 'policies neither isolate nor select it' : 'the engine polices it as a pod (--host-network pod), as only some CNIs do'}`,
            ],
          },
          remediation: {
            text: `Remove hostNetwork from ${workload.id}'s pod spec and expose it through a Service; keep it off PHI nodes otherwise.`,
          },
          location: locationOf(workload.provenance),
        },
      ];
    });
  },
};

/** HIPAA-NP-024: a hostPort opens the pod on the node's address, beside the pod network policies guard. */
export const check024: Check = {
  id: 'HIPAA-NP-024',
  run(context) {
    return phiWorkloads(context).flatMap((workload): FindingDraft[] => {
      const declared = new Set<string>();
      for (const pod of workload.pods) {
        for (const container of pod.containers) {
          for (const port of container.hostPorts)
            declared.add(`container ${container.name} hostPort ${port}`);
        }
      }
      if (declared.size === 0) return [];
      return [
        {
          status: 'fail',
          objects: [workload.id],
          evidence: {
            notes: [
              ...declared,
              "traffic to a hostPort arrives via the node and is SNAT'd on many CNIs, so `from` rules may not see the client",
            ],
          },
          remediation: {
            text: `Remove hostPort from ${workload.id}'s containers and reach it through a ClusterIP Service.`,
          },
          location: locationOf(workload.provenance),
        },
      ];
    });
  },
};
