import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.ts';
import { NO_PORTS, portsKey } from '../engine/ports.ts';
import { ALL_OPTIONS, clusterArb, toSnapshot } from '../testing/random-cluster.ts';
import { groupConnectivity } from './class-groups.ts';

test('pods in the same behaviour groups have the same connectivity', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      for (const options of ALL_OPTIONS) {
        const snapshot = toSnapshot(cluster, false);
        const engine = new Engine(snapshot, options);
        const { groups, connections } = groupConnectivity(engine);
        const groupOf = new Map(
          groups.flatMap((g) => g.classes.flatMap((c) => c.pods.map((p) => [p, g.id] as const))),
        );
        const between = new Map<string, string>();
        for (const c of connections) {
          if ('group' in c.src && 'group' in c.dst)
            between.set(`${c.src.group.id}>${c.dst.group.id}`, portsKey(c.ports));
        }
        for (const a of snapshot.pods) {
          for (const b of snapshot.pods) {
            if (a === b) continue;
            const grouped = between.get(`${groupOf.get(a)}>${groupOf.get(b)}`) ?? portsKey(NO_PORTS);
            assert.equal(grouped, portsKey(engine.portsBetween(a, b)), `${a.name} → ${b.name}`);
          }
        }
      }
    }),
    { numRuns: 200 },
  );
});
