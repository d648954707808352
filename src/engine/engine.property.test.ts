import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type Direction,
  type NetworkPolicy,
  type Pod,
  PROTOCOLS,
  type Protocol,
  type Snapshot,
} from '../model/types.ts';
import {
  ALL_OPTIONS,
  type Cluster,
  clusterArb,
  formatIp,
  policyArb,
  toSnapshot,
} from '../testing/random-cluster.ts';
import { parseAddress, parseCidr } from './addresses.ts';
import { Engine } from './engine.ts';
import { contains } from './intervals.ts';
import { intersectPorts, isEmptyPorts, type PortSet, portsKey } from './ports.ts';
import { referenceAllows } from './reference.ts';

/** 1, 65535, every rule port and range end with its neighbours, and every named port number. */
function probePorts(snapshot: Snapshot): Record<Protocol, number[]> {
  const probes = { TCP: new Set([1, 65535]), UDP: new Set([1, 65535]), SCTP: new Set([1, 65535]) };
  const rulePorts = [
    ...snapshot.policies.flatMap((p) => [...p.ingress, ...p.egress].flatMap((r) => r.ports ?? [])),
    ...snapshot.clusterPolicies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) => (r.ports ?? []).filter((port) => port.kind === 'number')),
    ),
  ];
  for (const p of rulePorts) {
    if (typeof p.port !== 'number') continue;
    for (const edge of [p.port, p.endPort ?? p.port]) {
      for (const port of [edge - 1, edge, edge + 1])
        if (port >= 1 && port <= 65535) probes[p.protocol].add(port);
    }
  }
  // Every protocol gets every named-port number, so a name resolved under the wrong protocol shows.
  for (const pod of snapshot.pods) {
    for (const named of pod.namedPorts) for (const protocol of PROTOCOLS) probes[protocol].add(named.port);
  }
  return { TCP: [...probes.TCP], UDP: [...probes.UDP], SCTP: [...probes.SCTP] };
}

/** Pod IPs seen from outside, every ipBlock and except edge with its neighbours, and two far addresses. */
function probeIps(snapshot: Snapshot): string[] {
  const ips = new Set([
    '192.0.2.1',
    '2001:db8::1',
    ...snapshot.pods.flatMap((p) => p.ips),
    ...snapshot.nodes.flatMap((n) => n.ips),
  ]);
  const blocks = [
    ...snapshot.policies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) =>
        (r.peers ?? []).flatMap((peer) =>
          peer.kind === 'ipBlock' ? [peer.ipBlock.cidr, ...peer.ipBlock.except] : [],
        ),
      ),
    ),
    ...snapshot.clusterPolicies.flatMap((p) =>
      [...p.ingress, ...p.egress].flatMap((r) =>
        r.peers.flatMap((peer) => (peer.kind === 'networks' ? peer.cidrs : [])),
      ),
    ),
  ];
  for (const text of blocks) {
    const cidr = parseCidr(text) as NonNullable<ReturnType<typeof parseCidr>>;
    const { bits, base } = cidr.family === 4 ? { bits: 32, base: 0n } : { bits: 128, base: 1n << 32n };
    for (const value of [cidr.lo - 1n, cidr.lo, cidr.hi, cidr.hi + 1n]) {
      const local = value - base;
      if (local >= 0n && local < 1n << BigInt(bits)) ips.add(formatIp(cidr.family, local));
    }
  }
  return [...ips];
}

/**
 * At most `max` of `items`, chosen by `seed`. External questions outnumber pod-pair ones more than ten
 * to one and the reference parses every CIDR on every question, so each run asks about a sample of the
 * probe addresses; across runs every kind of boundary still comes up many times.
 */
function sample<T>(items: readonly T[], max: number, seed: number): T[] {
  const picked = [...items];
  let state = seed;
  for (let i = picked.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [picked[i], picked[j]] = [picked[j] as T, picked[i] as T];
  }
  return picked.slice(0, max);
}

function externalGroupPorts(engine: Engine, pod: Pod, ip: string, direction: Direction): PortSet | undefined {
  const address = parseAddress(ip) as bigint;
  return engine.externalPorts(engine.classOf(pod), direction).find((g) => contains(g.addresses, address))
    ?.ports;
}

function checkCluster(cluster: Cluster): void {
  const snapshot = toSnapshot(cluster, false);
  const permuted = toSnapshot(cluster, true);
  const ports = probePorts(snapshot);
  const ips = sample(probeIps(snapshot), 10, cluster.probeSeed);
  const engines = ALL_OPTIONS.map((options) => new Engine(snapshot, options));
  for (const engine of engines) {
    const { options } = engine;
    const permutedEngine = new Engine(permuted, options);
    // Messages are built only on failure: this runs a few million times.
    const answer = (a: string, b: string, what: () => string, allowed: boolean, expected: boolean) => {
      if (allowed !== expected)
        assert.fail(
          `${a} → ${b} ${what()} with ${JSON.stringify(options)}: engine ${allowed}, reference ${expected}`,
        );
    };

    for (const [i, a] of snapshot.pods.entries()) {
      for (const [j, b] of snapshot.pods.entries()) {
        const between = engine.portsBetween(a, b);
        // Same pods, policies in another order: policies are additive, so nothing may change.
        const inOtherOrder = permutedEngine.portsBetween(permuted.pods[i] as Pod, permuted.pods[j] as Pod);
        assert.equal(portsKey(inOtherOrder), portsKey(between), `policy order changed ${a.name} → ${b.name}`);
        if (a !== b) {
          const sides = intersectPorts(
            engine.explainSide(a, { pod: b }, 'egress').ports,
            engine.explainSide(b, { pod: a }, 'ingress').ports,
          );
          assert.equal(portsKey(sides), portsKey(between), `explainSide disagrees on ${a.name} → ${b.name}`);
        }
        for (const protocol of PROTOCOLS) {
          for (const port of ports[protocol]) {
            const expected = referenceAllows(snapshot, { pod: a }, { pod: b }, protocol, port, options);
            answer(a.name, b.name, () => `${protocol}/${port}`, contains(between[protocol], port), expected);
          }
        }
      }

      for (const ip of ips) {
        for (const direction of ['egress', 'ingress'] as const) {
          const side = engine.explainSide(a, { ip }, direction).ports;
          const group = externalGroupPorts(engine, a, ip, direction);
          const [from, to] = direction === 'egress' ? [a.name, ip] : [ip, a.name];
          for (const protocol of PROTOCOLS) {
            for (const port of ports[protocol]) {
              const expected =
                direction === 'egress'
                  ? referenceAllows(snapshot, { pod: a }, { ip }, protocol, port, options)
                  : referenceAllows(snapshot, { ip }, { pod: a }, protocol, port, options);
              answer(
                from,
                to,
                () => `${protocol}/${port} (explainSide)`,
                contains(side[protocol], port),
                expected,
              );
              const viaGroup = group !== undefined && contains(group[protocol], port);
              answer(from, to, () => `${protocol}/${port} (externalPorts)`, viaGroup, expected);
            }
          }
        }
      }
    }
  }

  // allowedClassPairs enumerates candidates instead of all pairs: it must still list every allowed pair.
  for (const engine of engines) {
    const listed = new Map(
      [...engine.allowedClassPairs()].map((p) => [`${p.src.id}:${p.dst.id}`, portsKey(p.ports)]),
    );
    for (const a of engine.classes) {
      for (const b of engine.classes) {
        const ports = engine.classPorts(a, b).ports;
        const expected = isEmptyPorts(ports) ? undefined : portsKey(ports);
        assert.equal(listed.get(`${a.id}:${b.id}`), expected, `allowedClassPairs on ${a.id} → ${b.id}`);
      }
    }
  }

  // Without the ipblock-matches-pods flag, the answer must be the same when ipBlocks do not match pods.
  for (const hostNetwork of ['node', 'pod'] as const) {
    const engineFor = (ipBlockMatchesPods: boolean) =>
      engines.find(
        ({ options }) =>
          options.hostNetwork === hostNetwork && options.ipBlockMatchesPods === ipBlockMatchesPods,
      ) as Engine;
    const matching = engineFor(true);
    const notMatching = engineFor(false);
    for (const a of snapshot.pods) {
      for (const b of snapshot.pods) {
        if (a === b) continue;
        // The flag is exact: it is raised precisely when the answer would differ without the choice.
        assert.equal(
          matching.classPorts(matching.classOf(a), matching.classOf(b)).byIpBlock,
          portsKey(notMatching.portsBetween(a, b)) !== portsKey(matching.portsBetween(a, b)),
          `${a.name} → ${b.name}: the ipblock-matches-pods flag disagrees with flipping the option`,
        );
      }
    }
  }
}

test('the fast engine agrees with the reference evaluator on random clusters', () => {
  fc.assert(fc.property(clusterArb, checkCluster), { numRuns: 300 });
});

/**
 * replacePolicy must leave the engine answering exactly as a fresh engine over the changed policies,
 * and report exactly the class pairs whose ports changed.
 */
function checkIncrementalChange(
  cluster: Cluster,
  change: { index: number; replacement?: Cluster['policies'][number] },
) {
  for (const options of ALL_OPTIONS) {
    const snapshot = toSnapshot(cluster, false);
    const engine = new Engine(snapshot, options);
    const before = snapshot.policies[change.index % snapshot.policies.length] as NetworkPolicy;
    const replacementSnapshot = change.replacement
      ? toSnapshot({ ...cluster, policies: [change.replacement] }, false)
      : undefined;
    const after = replacementSnapshot?.policies[0];
    const key = (a: number, b: number) => `${a}:${b}`;
    const old = new Map<string, string>();
    for (const a of engine.classes) {
      for (const b of engine.classes) old.set(key(a.id, b.id), portsKey(engine.classPorts(a, b).ports));
    }
    const { rebuild, changed } = engine.replacePolicy(before, after);
    const policies = snapshot.policies.flatMap((p) => (p === before ? (after ? [after] : []) : [p]));
    const fresh = new Engine({ ...snapshot, policies }, options);
    if (rebuild) {
      // Only a new ipBlock edge may demand a rebuild, and only when ipBlocks can split pod classes.
      assert.ok(
        options.ipBlockMatchesPods &&
          after?.ingress.concat(after.egress).some((r) => r.peers?.some((p) => p.kind === 'ipBlock')),
      );
      continue;
    }
    for (const a of snapshot.pods) {
      for (const b of snapshot.pods) {
        assert.equal(
          portsKey(engine.portsBetween(a, b)),
          portsKey(fresh.portsBetween(a, b)),
          `${a.name} → ${b.name}`,
        );
      }
    }
    const expected = new Set<string>();
    for (const a of engine.classes) {
      for (const b of engine.classes) {
        if (old.get(key(a.id, b.id)) !== portsKey(engine.classPorts(a, b).ports))
          expected.add(key(a.id, b.id));
      }
    }
    assert.deepEqual(new Set(changed.map((c) => key(c.src.id, c.dst.id))), expected);
  }
}

test('an incremental policy change matches a fresh engine and reports exactly what changed', () => {
  const changeArb = fc.record({ index: fc.nat(), replacement: fc.option(policyArb, { nil: undefined }) });
  fc.assert(fc.property(clusterArb, changeArb, checkIncrementalChange), { numRuns: 300 });
});
