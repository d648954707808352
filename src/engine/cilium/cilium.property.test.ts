import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Pod, Snapshot } from '../../model/types.ts';
import { ciliumArb, withCilium } from '../../testing/random-cilium.ts';
import { clusterArb, toSnapshot } from '../../testing/random-cluster.ts';
import { parseAddress } from '../addresses.ts';
import type { EngineOptions } from '../endpoint.ts';
import { Engine } from '../engine.ts';
import { contains } from '../intervals.ts';
import { isEmptyPorts, type PortSet, portsKey, TRANSPORTS, type Transport } from '../ports.ts';
import { referenceAllows } from '../reference.ts';

/** The `cilium` profile's options, and the other way round on every switch. */
const OPTIONS: EngineOptions[] = [
  { ipBlockMatchesPods: false, hostNetwork: 'node', ciliumIdentity: true },
  { ipBlockMatchesPods: true, hostNetwork: 'pod', ciliumIdentity: false },
];

/** Every rule port and range edge with neighbours, named-port numbers, the ICMP types the rules use. */
function probes(snapshot: Snapshot): Record<Transport, number[]> {
  const out: Record<Transport, Set<number>> = {
    TCP: new Set([1, 65535]),
    UDP: new Set([1, 65535]),
    SCTP: new Set([1, 65535]),
    ICMP: new Set([0, 3, 8]),
  };
  for (const policy of snapshot.ciliumPolicies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port !== 'number') continue;
        for (const edge of [p.port, p.endPort ?? p.port])
          for (const protocol of p.protocols)
            for (const port of [edge - 1, edge, edge + 1]) out[protocol].add(port);
      }
    }
  }
  for (const pod of snapshot.pods) for (const named of pod.namedPorts) out[named.protocol].add(named.port);
  return { TCP: [...out.TCP], UDP: [...out.UDP], SCTP: [...out.SCTP], ICMP: [...out.ICMP] };
}

const IPS = [
  '10.0.0.0',
  '10.0.0.3',
  '10.0.0.9',
  '10.0.1.1',
  '10.0.1.200',
  '192.0.2.1',
  '1.1.1.1',
  'fd00::1',
  '2001:db8::1',
];

function externalPorts(
  engine: Engine,
  pod: Pod,
  ip: string,
  direction: 'ingress' | 'egress',
): PortSet | undefined {
  const address = parseAddress(ip) as bigint;
  return engine.externalPorts(engine.classOf(pod), direction).find((g) => contains(g.addresses, address))
    ?.ports;
}

function check(snapshot: Snapshot): void {
  const ports = probes(snapshot);
  const ips = [...IPS, ...snapshot.nodes.flatMap((n) => n.ips), ...snapshot.pods.flatMap((p) => p.ips)];
  for (const options of OPTIONS) {
    const engine = new Engine(snapshot, options);
    const fail = (what: string, engineSays: boolean) =>
      assert.fail(`${what} with ${JSON.stringify(options)}: engine ${engineSays}, reference ${!engineSays}`);
    for (const a of snapshot.pods) {
      for (const b of snapshot.pods) {
        const between = engine.portsBetween(a, b);
        for (const protocol of TRANSPORTS) {
          for (const port of ports[protocol]) {
            const expected = referenceAllows(snapshot, { pod: a }, { pod: b }, protocol, port, options);
            const allowed = contains(between[protocol], port);
            if (allowed !== expected) fail(`${a.name} → ${b.name} ${protocol}/${port}`, allowed);
          }
        }
      }
      for (const ip of ips) {
        for (const direction of ['egress', 'ingress'] as const) {
          const group = externalPorts(engine, a, ip, direction);
          const side = engine.explainSide(a, { ip }, direction).ports;
          for (const protocol of TRANSPORTS) {
            for (const port of ports[protocol]) {
              const expected =
                direction === 'egress'
                  ? referenceAllows(snapshot, { pod: a }, { ip }, protocol, port, options)
                  : referenceAllows(snapshot, { ip }, { pod: a }, protocol, port, options);
              const allowed = group !== undefined && contains(group[protocol], port);
              if (allowed !== expected) fail(`${a.name} ${direction} ${ip} ${protocol}/${port}`, allowed);
              if (contains(side[protocol], port) !== expected)
                fail(`${a.name} ${direction} ${ip} ${protocol}/${port} (explainSide)`, !expected);
            }
          }
        }
      }
    }
    // Candidates come from the rules: every allowed pair must still be listed.
    const listed = new Map(
      [...engine.allowedClassPairs()].map((p) => [`${p.src.id}:${p.dst.id}`, portsKey(p.ports)]),
    );
    for (const a of engine.classes) {
      for (const b of engine.classes) {
        const pair = engine.classPorts(a, b).ports;
        assert.equal(listed.get(`${a.id}:${b.id}`), isEmptyPorts(pair) ? undefined : portsKey(pair));
      }
    }
  }
}

/**
 * Whether a hostNetwork pod holds an address a pod-network pod also holds. No cluster can: a hostNetwork
 * pod has its node's address, which the pod network never hands out. Cilium tells identities apart by
 * address, so for such an address there is no right answer to compare against.
 */
function hostNetworkSharesPodAddress(snapshot: Snapshot): boolean {
  const podNetwork = new Set(snapshot.pods.filter((p) => !p.hostNetwork).flatMap((p) => p.ips));
  return snapshot.pods.some((p) => p.hostNetwork && p.ips.some((ip) => podNetwork.has(ip)));
}

test('Cilium policies: the fast engine agrees with the reference evaluator on random clusters', () => {
  let withRules = 0;
  fc.assert(
    fc.property(clusterArb, ciliumArb, (cluster, cilium) => {
      const snapshot = withCilium(toSnapshot(cluster, false), cilium);
      fc.pre(!hostNetworkSharesPodAddress(snapshot));
      if (snapshot.ciliumPolicies.some((p) => p.ingress.length + p.egress.length > 0)) withRules++;
      check(snapshot);
    }),
    { numRuns: 300 },
  );
  // The generator must exercise rules, not only empty policies.
  assert.ok(withRules > 150, `only ${withRules} clusters had Cilium rules`);
});
