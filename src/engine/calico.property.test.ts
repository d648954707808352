import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PROTOCOLS, type Protocol, type Snapshot } from '../model/types.ts';
import { calicoArb, withCalico } from '../testing/random-calico.ts';
import { ALL_OPTIONS, clusterArb, toSnapshot } from '../testing/random-cluster.ts';
import { parseAddress } from './addresses.ts';
import { Engine } from './engine.ts';
import { contains } from './intervals.ts';
import { isEmptyPorts, portsKey } from './ports.ts';
import { referenceAllows } from './reference.ts';

/** 1, 65535, every Calico port edge with its neighbours, and every named-port number, for every protocol. */
function probePorts(snapshot: Snapshot): number[] {
  const probes = new Set([1, 65535, 53, 80, 443, 8080, 8081]);
  const rules = [
    ...(snapshot.calico?.policies ?? []).flatMap((p) => [...p.ingress, ...p.egress]),
    ...(snapshot.calico?.profiles ?? []).flatMap((p) => [...p.ingress, ...p.egress]),
  ];
  for (const rule of rules) {
    for (const p of [...(rule.destination.ports ?? []), ...(rule.destination.notPorts ?? [])]) {
      if (p.kind !== 'range') continue;
      for (const edge of [p.from, p.to])
        for (const port of [edge - 1, edge, edge + 1]) if (port >= 1 && port <= 65535) probes.add(port);
    }
  }
  for (const pod of snapshot.pods) for (const named of pod.namedPorts) probes.add(named.port);
  return [...probes];
}

/** Pod IPs, the edges of every Calico net, and addresses far from everything. */
function probeIps(snapshot: Snapshot): string[] {
  const ips = new Set([
    '192.0.2.1',
    '198.51.100.1',
    '2001:db8::1',
    '10.0.0.9',
    'fd00::101',
    ...snapshot.pods.flatMap((p) => p.ips),
  ]);
  return [...ips].filter((ip) => parseAddress(ip) !== undefined);
}

function checkCluster(snapshot: Snapshot): void {
  const ports = probePorts(snapshot);
  const ips = probeIps(snapshot);
  for (const options of ALL_OPTIONS) {
    const engine = new Engine(snapshot, options);
    const fail = (what: () => string) => assert.fail(`${what()} with ${JSON.stringify(options)}`);
    for (const a of snapshot.pods) {
      for (const b of snapshot.pods) {
        const between = engine.portsBetween(a, b);
        for (const protocol of PROTOCOLS) {
          for (const port of ports) {
            const expected = referenceAllows(snapshot, { pod: a }, { pod: b }, protocol, port, options);
            if (contains(between[protocol], port) !== expected) {
              fail(
                () => `${a.name} → ${b.name} ${protocol}/${port}: engine ${!expected}, reference ${expected}`,
              );
            }
          }
        }
      }
      for (const ip of ips) {
        for (const direction of ['egress', 'ingress'] as const) {
          const side = engine.explainSide(a, { ip }, direction).ports;
          const address = parseAddress(ip) as bigint;
          const group = engine
            .externalPorts(engine.classOf(a), direction)
            .find((g) => contains(g.addresses, address));
          for (const protocol of PROTOCOLS as readonly Protocol[]) {
            for (const port of ports) {
              const expected =
                direction === 'egress'
                  ? referenceAllows(snapshot, { pod: a }, { ip }, protocol, port, options)
                  : referenceAllows(snapshot, { ip }, { pod: a }, protocol, port, options);
              const what = () => `${direction} ${a.name} / ${ip} ${protocol}/${port}: reference ${expected}`;
              if (contains(side[protocol], port) !== expected) fail(() => `${what()} (explainSide)`);
              if ((group !== undefined && contains(group.ports[protocol], port)) !== expected)
                fail(() => `${what()} (externalPorts)`);
            }
          }
        }
      }
    }
    // allowedClassPairs must list every allowed pair, though it does not visit all of them.
    const listed = new Map(
      [...engine.allowedClassPairs()].map((p) => [`${p.src.id}:${p.dst.id}`, portsKey(p.ports)]),
    );
    for (const a of engine.classes) {
      for (const b of engine.classes) {
        const pair = engine.classPorts(a, b).ports;
        assert.equal(
          listed.get(`${a.id}:${b.id}`),
          isEmptyPorts(pair) ? undefined : portsKey(pair),
          `allowedClassPairs ${a.id} → ${b.id}`,
        );
      }
    }
  }
}

test('the engine agrees with the reference on random clusters with Calico policies beside NetworkPolicies', () => {
  fc.assert(
    fc.property(clusterArb, calicoArb, (cluster, calico) =>
      checkCluster(withCalico(toSnapshot(cluster, false), calico)),
    ),
    { numRuns: 300 },
  );
});
