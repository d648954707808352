import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  type Direction,
  type IpBlock,
  type LabelSelector,
  type Labels,
  type NamedPort,
  type Namespace,
  type NetworkPolicy,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  type Provenance,
  type Snapshot,
} from '../model/types.ts';
import { parseAddress, parseCidr } from './addresses.ts';
import type { EngineOptions } from './endpoint.ts';
import { Engine } from './engine.ts';
import { contains } from './intervals.ts';
import { intersectPorts, type PortSet, portsKey } from './ports.ts';
import { referenceAllows } from './reference.ts';

// Small alphabets everywhere, so that selectors, named ports and ipBlocks hit the generated pods often
// enough for every branch of the engine to be exercised.
const NAMESPACES = ['default', 'ns1', 'ns2'];
const LABEL_KEYS = ['app', 'tier', 'env'];
const LABEL_VALUES = ['a', 'b', 'c'];
const PORT_NAMES = ['http', 'dns', 'metrics'];
const NAMED_PORT_NUMBERS = [53, 80, 443, 8080, 8081];
const RULE_PORT_NUMBERS = [1, 53, 79, 80, 443, 8080, 65535];

const PROVENANCE: Provenance = { file: 'gen', locate: () => ({ line: 1, column: 1 }) };

const ALL_OPTIONS: EngineOptions[] = [true, false].flatMap((ipBlockMatchesPods) =>
  (['node', 'pod'] as const).map((hostNetwork) => ({ ipBlockMatchesPods, hostNetwork })),
);

// Pods live in two small runs of each family (10.0.0.0-15, 10.0.1.0-15, fd00::-f, fd00::100-10f).
const FAMILIES = {
  4: { bits: 32, base: 0x0a000000n },
  6: { bits: 128, base: 0xfd00n << 112n },
} as const;
type Family = keyof typeof FAMILIES;

function formatIp(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  return new ipaddr.IPv6(
    Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn)),
  ).toString();
}

const nearPodOffset = fc.integer({ min: 0, max: 31 }).map((i) => BigInt(i < 16 ? i : 256 + i - 16));

const labelsArb = (keys: readonly string[], values: readonly string[]): fc.Arbitrary<Labels> =>
  fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 2 });

const selectorArb = (keys: readonly string[], values: readonly string[]): fc.Arbitrary<LabelSelector> =>
  fc.record({
    matchLabels: fc.oneof(
      { weight: 2, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: labelsArb(keys, values) },
    ),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom(...keys),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }),
        }),
        fc.record({
          key: fc.constantFrom(...keys),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
          values: fc.constant([]),
        }),
      ),
      { maxLength: 2 },
    ),
  });

const podSelectorArb = selectorArb(LABEL_KEYS, LABEL_VALUES);
const namespaceSelectorArb = selectorArb(
  [...LABEL_KEYS, 'kubernetes.io/metadata.name'],
  [...LABEL_VALUES, ...NAMESPACES],
);

const podIpsArb = fc.record({
  v4: fc.option(nearPodOffset, { nil: undefined, freq: 5 }),
  v6: fc.option(nearPodOffset, { nil: undefined, freq: 2 }),
});

/**
 * A pod shape and one or two replicas of it with their own IPs: replicas differ only in IPs, which is
 * what the engine's class partition must tell apart when ipBlocks match pods.
 */
const podArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  labels: labelsArb(LABEL_KEYS, LABEL_VALUES),
  replicas: fc.array(podIpsArb, { minLength: 1, maxLength: 2 }),
  namedPorts: fc.array(
    fc.record({
      name: fc.constantFrom(...PORT_NAMES),
      protocol: fc.constantFrom(...PROTOCOLS),
      port: fc.constantFrom(...NAMED_PORT_NUMBERS),
    }),
    { maxLength: 3 },
  ),
  hostNetwork: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
});

/** A CIDR near the pods, sometimes with host bits set, and excepts strictly inside it. */
function ipBlockArb(family: Family): fc.Arbitrary<IpBlock> {
  const { bits, base } = FAMILIES[family];
  const prefixes =
    family === 4
      ? [0, 8, 16, 23, 24, 25, 27, 28, 30, 31, 32]
      : [0, 64, 112, 118, 120, 123, 124, 126, 127, 128];
  return fc
    .record({
      offset: nearPodOffset,
      prefix: fc.constantFrom(...prefixes),
      withHostBits: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    })
    .chain(({ offset, prefix, withHostBits }) => {
      const size = 1n << BigInt(bits - prefix);
      const address = base + offset;
      const lo = (address / size) * size;
      const cidr = `${formatIp(family, withHostBits ? address : lo)}/${prefix}`;
      const inner = prefixes.filter((p) => p > prefix);
      if (inner.length === 0) return fc.constant<IpBlock>({ cidr, except: [] });
      const except = fc
        .record({ at: nearPodOffset, prefix: fc.constantFrom(...inner) })
        .map(({ at, prefix: exceptPrefix }) => {
          const exceptSize = 1n << BigInt(bits - exceptPrefix);
          const candidate = base + at;
          const inside = candidate >= lo && candidate < lo + size ? candidate : lo + (candidate % size);
          return `${formatIp(family, (inside / exceptSize) * exceptSize)}/${exceptPrefix}`;
        });
      return fc.record<IpBlock>({
        cidr: fc.constant(cidr),
        except: fc.uniqueArray(except, { maxLength: 2 }),
      });
    });
}

const peerArb: fc.Arbitrary<PolicyPeer> = fc.oneof(
  { weight: 3, arbitrary: podSelectorArb.map((podSelector): PolicyPeer => ({ kind: 'pods', podSelector })) },
  {
    weight: 2,
    arbitrary: namespaceSelectorArb.map(
      (namespaceSelector): PolicyPeer => ({ kind: 'pods', namespaceSelector }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(podSelectorArb, namespaceSelectorArb)
      .map(
        ([podSelector, namespaceSelector]): PolicyPeer => ({ kind: 'pods', podSelector, namespaceSelector }),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof({ weight: 3, arbitrary: ipBlockArb(4) }, { weight: 1, arbitrary: ipBlockArb(6) })
      .map((ipBlock): PolicyPeer => ({ kind: 'ipBlock', ipBlock })),
  },
);

const portArb: fc.Arbitrary<PolicyPort> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ protocol: fc.constantFrom(...PROTOCOLS) }) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        protocol: fc.constantFrom(...PROTOCOLS),
        port: fc.constantFrom(...RULE_PORT_NUMBERS),
        width: fc.option(fc.constantFrom(0, 1, 3, 1000), { nil: undefined }),
      })
      .map(({ protocol, port, width }) => ({
        protocol,
        port,
        endPort: width === undefined ? undefined : Math.min(65535, port + width),
      })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      protocol: fc.constantFrom(...PROTOCOLS),
      port: fc.constantFrom(...PORT_NAMES, 'missing'),
    }),
  },
);

const ruleArb = fc.record({
  peers: fc.option(fc.array(peerArb, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 4 }),
  ports: fc.option(fc.array(portArb, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 3 }),
});

const policyArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  // Biased towards selecting and isolating pods: a cluster where nothing is isolated tests little.
  podSelector: fc.oneof(
    { weight: 1, arbitrary: fc.constant<LabelSelector>({ matchLabels: {}, matchExpressions: [] }) },
    { weight: 2, arbitrary: podSelectorArb },
  ),
  isolates: fc.record({ ingress: fc.integer({ min: 0, max: 3 }).map((n) => n > 0), egress: fc.boolean() }),
  ingress: fc.array(ruleArb, { maxLength: 3 }),
  egress: fc.array(ruleArb, { maxLength: 3 }),
  // Sort key for a second, permuted copy of the policy list.
  order: fc.nat(),
});

const clusterArb = fc.record({
  namespaceLabels: fc.tuple(...NAMESPACES.map(() => labelsArb(LABEL_KEYS, LABEL_VALUES))),
  pods: fc.array(podArb, { minLength: 1, maxLength: 4 }),
  policies: fc.array(policyArb, { minLength: 1, maxLength: 4 }),
  probeSeed: fc.nat(),
});

type Cluster = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

function toSnapshot(cluster: Cluster, permuted: boolean): Snapshot {
  const namespaces = new Map<string, Namespace>(
    NAMESPACES.map((name, i) => [
      name,
      {
        name,
        labels: { ...cluster.namespaceLabels[i], 'kubernetes.io/metadata.name': name },
        declared: true,
      },
    ]),
  );
  const pods: Pod[] = cluster.pods.flatMap((p, i) =>
    p.replicas.map(({ v4, v6 }, r) => ({
      namespace: p.namespace,
      name: `p${i}-${r}`,
      labels: p.labels,
      ips: [
        ...(v4 === undefined ? [] : [formatIp(4, FAMILIES[4].base + v4)]),
        ...(v6 === undefined ? [] : [formatIp(6, FAMILIES[6].base + v6)]),
      ],
      namedPorts: p.namedPorts as NamedPort[],
      hostNetwork: p.hostNetwork,
      workload: `${p.namespace}/p${i}[Deployment]`,
      provenance: PROVENANCE,
    })),
  );
  const rules = (direction: Direction, raw: Cluster['policies'][number]['ingress']): PolicyRule[] =>
    raw.map((r, index) => ({ direction, index, peers: r.peers, ports: r.ports, provenance: PROVENANCE }));
  let policies: NetworkPolicy[] = cluster.policies.map((p, i) => ({
    namespace: p.namespace,
    name: `np${i}`,
    podSelector: p.podSelector,
    isolates: p.isolates,
    ingress: rules('ingress', p.ingress),
    egress: rules('egress', p.egress),
    provenance: PROVENANCE,
  }));
  if (permuted) {
    const order = cluster.policies.map((p, i) => ({ key: p.order, policy: policies[i] as NetworkPolicy }));
    policies = order.sort((a, b) => a.key - b.key).map(({ policy }) => policy);
  }
  return {
    namespaces,
    workloads: cluster.pods.map((p, i) => ({
      id: `${p.namespace}/p${i}[Deployment]`,
      namespace: p.namespace,
      name: `p${i}`,
      kind: 'Deployment',
      pods: pods.filter((pod) => pod.workload === `${p.namespace}/p${i}[Deployment]`),
      provenance: PROVENANCE,
    })),
    pods,
    policies,
    services: [],
    ingresses: [],
    inputs: [],
    warnings: [],
    partial: false,
  };
}

/** 1, 65535, every rule port and range end with its neighbours, and every named port number. */
function probePorts(snapshot: Snapshot): Record<Protocol, number[]> {
  const probes = { TCP: new Set([1, 65535]), UDP: new Set([1, 65535]), SCTP: new Set([1, 65535]) };
  for (const policy of snapshot.policies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const p of rule.ports ?? []) {
        if (typeof p.port !== 'number') continue;
        for (const edge of [p.port, p.endPort ?? p.port]) {
          for (const port of [edge - 1, edge, edge + 1])
            if (port >= 1 && port <= 65535) probes[p.protocol].add(port);
        }
      }
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
  const ips = new Set(['192.0.2.1', '2001:db8::1', ...snapshot.pods.flatMap((p) => p.ips)]);
  for (const policy of snapshot.policies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind !== 'ipBlock') continue;
        for (const text of [peer.ipBlock.cidr, ...peer.ipBlock.except]) {
          const cidr = parseCidr(text) as NonNullable<ReturnType<typeof parseCidr>>;
          const { bits, base } = cidr.family === 4 ? { bits: 32, base: 0n } : { bits: 128, base: 1n << 32n };
          for (const value of [cidr.lo - 1n, cidr.lo, cidr.hi, cidr.hi + 1n]) {
            const local = value - base;
            if (local >= 0n && local < 1n << BigInt(bits)) ips.add(formatIp(cidr.family, local));
          }
        }
      }
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
