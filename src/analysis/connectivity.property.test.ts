import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseAddress, parseCidr } from '../engine/addresses.ts';
import { Engine } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { equalPorts, NO_PORTS, type PortSet } from '../engine/ports.ts';
import { referenceAllows } from '../engine/reference.ts';
import { type Pod, PROTOCOLS, type Protocol, type Workload } from '../model/types.ts';
import { probeIps, probePorts, sample } from '../testing/probes.ts';
import { ALL_OPTIONS, type Cluster, relabelledClusterArb, toSnapshot } from '../testing/random-cluster.ts';
import { type Connection, computeConnectivity } from './connectivity.ts';

/** Whether `ports` holds the port: an absent connection holds none. */
const has = (ports: PortSet | undefined, protocol: Protocol, port: number) =>
  contains((ports ?? NO_PORTS)[protocol], port);

/**
 * Checks one connection (or its absence) against the reference over every pod pair of its ends: a port
 * is in `ports` when some pair may use it, and in `portsAllPods` (or `ports`, when absent) when every
 * pair may. Returns whether the connection had a `portsAllPods`.
 */
function checkPairs(
  what: string,
  connection: Connection | undefined,
  pairs: readonly (readonly [Parameters<typeof referenceAllows>[1], Parameters<typeof referenceAllows>[2]])[],
  allows: (
    src: (typeof pairs)[number][0],
    dst: (typeof pairs)[number][1],
    protocol: Protocol,
    port: number,
  ) => boolean,
  probes: Record<Protocol, number[]>,
): boolean {
  if (connection?.portsAllPods) {
    assert.ok(!equalPorts(connection.portsAllPods, connection.ports), `${what}: portsAllPods equals ports`);
  }
  const every = connection?.portsAllPods ?? connection?.ports;
  for (const protocol of PROTOCOLS) {
    for (const port of probes[protocol]) {
      let some = false;
      let all = true;
      for (const [src, dst] of pairs) {
        if (allows(src, dst, protocol, port)) some = true;
        else all = false;
      }
      if (has(connection?.ports, protocol, port) !== some) {
        assert.fail(`${what} ${protocol}/${port}: ports says ${!some}, the reference over pod pairs ${some}`);
      }
      if (has(every, protocol, port) !== all) {
        assert.fail(
          `${what} ${protocol}/${port}: every pod pair ${!all} by connectivity, ${all} by the reference`,
        );
      }
    }
  }
  return connection?.portsAllPods !== undefined;
}

function covers(cidrs: readonly string[], ip: string): boolean {
  const address = parseAddress(ip) as bigint;
  return cidrs.some((text) => {
    const cidr = parseCidr(text);
    return cidr !== undefined && cidr.lo <= address && address <= cidr.hi;
  });
}

/** Returns how many connections had pods that differ. */
function checkConnectivity(cluster: Cluster): number {
  const snapshot = toSnapshot(cluster, false);
  const probes = probePorts(snapshot);
  const ips = sample(probeIps(snapshot), 4, cluster.probeSeed);
  let differing = 0;
  for (const options of ALL_OPTIONS) {
    const connections = computeConnectivity(new Engine(snapshot, options));
    const byPair = new Map<string, Connection>();
    for (const c of connections) {
      if ('workload' in c.src && 'workload' in c.dst) byPair.set(`${c.src.workload} ${c.dst.workload}`, c);
    }
    const allows = (
      src: Parameters<typeof referenceAllows>[1],
      dst: Parameters<typeof referenceAllows>[2],
      protocol: Protocol,
      port: number,
    ) => referenceAllows(snapshot, src, dst, protocol, port, options);
    const podPairs = (a: Workload, b: Workload) =>
      a.pods.flatMap((p) => b.pods.map((q) => [{ pod: p }, { pod: q }] as const));
    for (const a of snapshot.workloads) {
      for (const b of snapshot.workloads) {
        if (a === b) continue;
        const what = `${a.id} => ${b.id} with ${JSON.stringify(options)}`;
        if (checkPairs(what, byPair.get(`${a.id} ${b.id}`), podPairs(a, b), allows, probes)) differing++;
      }
      for (const ip of ips) {
        for (const direction of ['egress', 'ingress'] as const) {
          const external = connections.find((c) => {
            const [self, other] = direction === 'egress' ? [c.src, c.dst] : [c.dst, c.src];
            return (
              'workload' in self &&
              self.workload === a.id &&
              'external' in other &&
              covers(other.external, ip)
            );
          });
          const pairs = a.pods.map((pod: Pod) =>
            direction === 'egress' ? ([{ pod }, { ip }] as const) : ([{ ip }, { pod }] as const),
          );
          const what = `${a.id} ${direction} ${ip} with ${JSON.stringify(options)}`;
          if (checkPairs(what, external, pairs, allows, probes)) differing++;
        }
      }
    }
  }
  return differing;
}

test('connectivity: ports is the union and portsAllPods what every pod pair has, by the reference evaluator', () => {
  let differing = 0;
  fc.assert(
    fc.property(relabelledClusterArb, (cluster) => {
      differing += checkConnectivity(cluster);
    }),
    { numRuns: 120 },
  );
  // The generator must produce workloads whose pods policies treat differently, or this proves little.
  assert.ok(differing > 0, 'no connection of the random clusters had pods that differ');
});
