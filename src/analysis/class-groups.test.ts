import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.ts';
import { NO_PORTS, type PortSet, portsKey, unionPorts } from '../engine/ports.ts';
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

test('one class pair per pair of groups finds the connections that every class pair finds', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      for (const options of ALL_OPTIONS) {
        const engine = new Engine(toSnapshot(cluster, false), options);
        const { groups, connections } = groupConnectivity(engine);
        const groupOf = new Map(groups.flatMap((g) => g.classes.map((c) => [c, g.id] as const)));
        // The unindexed path: every allowed class pair, its ports gathered per pair of groups.
        const everyPair = new Map<string, PortSet>();
        for (const { src, dst, ports } of engine.allowedClassPairs()) {
          if (src === dst && src.pods.length === 1) continue;
          const key = `${groupOf.get(src)}>${groupOf.get(dst)}`;
          everyPair.set(key, unionPorts(everyPair.get(key) ?? NO_PORTS, ports));
        }
        const grouped = new Map(
          connections.flatMap((c) =>
            'group' in c.src && 'group' in c.dst
              ? [[`${c.src.group.id}>${c.dst.group.id}`, portsKey(c.ports)] as const]
              : [],
          ),
        );
        assert.deepEqual(
          grouped,
          new Map([...everyPair].map(([key, ports]) => [key, portsKey(ports)] as const)),
        );
      }
    }),
    { numRuns: 200 },
  );
});
