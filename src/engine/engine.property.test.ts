import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Direction, type NetworkPolicy, type Pod, PROTOCOLS } from '../model/types.ts';
import { probeIps, probePorts, sample } from '../testing/probes.ts';
import { ALL_OPTIONS, type Cluster, clusterArb, policyArb, toSnapshot } from '../testing/random-cluster.ts';
import { parseAddress } from './addresses.ts';
import { Engine, type PodClass } from './engine.ts';
import { contains } from './intervals.ts';
import { intersectPorts, isEmptyPorts, type PortSet, portsKey } from './ports.ts';
import { referenceAllows } from './reference.ts';

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
 * and report exactly the class pairs whose ports (or whether they rest on ipBlocks) changed.
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
    // A pair's ports, and whether they rest on ipblock-matches-pods (connectivity's dependsOn says so).
    const answer = (a: PodClass, b: PodClass) => {
      const pair = engine.classPorts(a, b);
      return `${portsKey(pair.ports)} ${pair.byIpBlock}`;
    };
    const old = new Map<string, string>();
    for (const a of engine.classes) {
      for (const b of engine.classes) old.set(key(a.id, b.id), answer(a, b));
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
        if (old.get(key(a.id, b.id)) !== answer(a, b)) expected.add(key(a.id, b.id));
      }
    }
    assert.deepEqual(new Set(changed.map((c) => key(c.src.id, c.dst.id))), expected);
  }
}

test('an incremental policy change matches a fresh engine and reports exactly what changed', () => {
  const changeArb = fc.record({ index: fc.nat(), replacement: fc.option(policyArb, { nil: undefined }) });
  fc.assert(fc.property(clusterArb, changeArb, checkIncrementalChange), { numRuns: 300 });
});
