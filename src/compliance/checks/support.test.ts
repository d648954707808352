import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { computeConnectivity } from '../../analysis/connectivity.ts';
import { Engine } from '../../engine/engine.ts';
import { clusterArb, toSnapshot } from '../../testing/random-cluster.ts';
import type { AuditContext } from '../types.ts';
import { connectionsOf } from './support.ts';

test('the indexed connections of a workload are the ones a scan of every connection finds, in order', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      const snapshot = toSnapshot(cluster, false);
      const connections = computeConnectivity(new Engine(snapshot));
      // Only the connections are read: the rest of an audit's context plays no part.
      const context = { connections } as Pick<AuditContext, 'connections'> as AuditContext;
      for (const workload of snapshot.workloads) {
        for (const direction of ['ingress', 'egress'] as const) {
          const scanned = connections.filter((c) => {
            const side = direction === 'ingress' ? c.dst : c.src;
            return 'workload' in side && side.workload === workload.id;
          });
          assert.deepEqual(connectionsOf(context, workload.id, direction), scanned);
        }
      }
    }),
    { numRuns: 100 },
  );
});
