import type { Connection } from '../../analysis/connectivity.ts';
import type { Check } from '../types.ts';
import { connectionsOf, edgeText, isPhi, phiWorkloads } from './support.ts';

// HIPAA-NP-032: ePHI flow map

export const flowMap: Check = {
  id: 'HIPAA-NP-032',
  run(context) {
    const phi = phiWorkloads(context);
    const seen = new Set<Connection>();
    for (const w of phi) {
      for (const c of [...connectionsOf(context, w.id, 'ingress'), ...connectionsOf(context, w.id, 'egress')])
        seen.add(c);
    }
    // Connectivity is sorted once; keep its order so the map reads the same on every run.
    const edges = context.connections.filter((c) => seen.has(c));
    const count = (test: (c: Connection) => boolean) => edges.filter(test).length;
    const phiEnd = (p: Connection['src']) => 'workload' in p && isPhi(context, p.workload);
    const between = count((c) => phiEnd(c.src) && phiEnd(c.dst));
    const into = count((c) => !phiEnd(c.src) && phiEnd(c.dst));
    const out = count((c) => phiEnd(c.src) && !phiEnd(c.dst));
    return [
      {
        status: 'pass',
        objects: phi.map((w) => w.id),
        evidence: {
          edges: edges.map(edgeText),
          notes: [
            phi.length === 0
              ? 'no PHI workloads: the map is empty'
              : `${phi.length} PHI workload(s): ${phi.map((w) => `${w.id} (${context.phi.phi.get(w.id)})`).join(', ')}`,
            `${into} flow(s) into PHI, ${out} out of PHI, ${between} between PHI workloads`,
          ],
        },
      },
    ];
  },
};
