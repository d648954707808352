/**
 * Test support: random clusters for property tests (fast-check), built directly as model objects.
 * Small alphabets everywhere, so that selectors, named ports and ipBlocks hit the generated pods often
 * enough for every branch of the engine to be exercised.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import type { EngineOptions } from '../engine/endpoint.ts';
import {
  type ClusterPeer,
  type ClusterPolicy,
  type ClusterPort,
  type ClusterRule,
  type Direction,
  type IpBlock,
  type LabelSelector,
  type Labels,
  type NamedPort,
  type Namespace,
  type NetworkPolicy,
  type Node,
  type Pod,
  type PolicyPeer,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Provenance,
  type Snapshot,
} from '../model/types.ts';

const NAMESPACES = ['default', 'ns1', 'ns2'];
const LABEL_KEYS = ['app', 'tier', 'env'];
const LABEL_VALUES = ['a', 'b', 'c'];
const PORT_NAMES = ['http', 'dns', 'metrics'];
const NAMED_PORT_NUMBERS = [53, 80, 443, 8080, 8081];
const RULE_PORT_NUMBERS = [1, 53, 79, 80, 443, 8080, 65535];

const PROVENANCE: Provenance = { file: 'gen', locate: () => ({ line: 1, column: 1 }) };

export const ALL_OPTIONS: EngineOptions[] = [true, false].flatMap((ipBlockMatchesPods) =>
  (['node', 'pod'] as const).map((hostNetwork) => ({ ipBlockMatchesPods, hostNetwork })),
);

// Pods live in two small runs of each family (10.0.0.0-15, 10.0.1.0-15, fd00::-f, fd00::100-10f).
const FAMILIES = {
  4: { bits: 32, base: 0x0a000000n },
  6: { bits: 128, base: 0xfd00n << 112n },
} as const;
type Family = keyof typeof FAMILIES;

export function formatIp(family: Family, value: bigint): string {
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

/**
 * A replica's IPs, and sometimes labels of its own over the workload's (a pod relabelled to quarantine
 * or debug it, or a rollout's second template): a workload whose pods policies treat differently.
 */
const replicaArb = (relabel: boolean) =>
  fc.record({
    v4: fc.option(nearPodOffset, { nil: undefined, freq: 5 }),
    v6: fc.option(nearPodOffset, { nil: undefined, freq: 2 }),
    relabel: relabel
      ? fc.option(labelsArb(LABEL_KEYS, LABEL_VALUES), { nil: undefined, freq: 3 })
      : fc.constant<Labels | undefined>(undefined),
  });

/**
 * A pod shape and one or two replicas of it with their own IPs (with `relabel`, up to three, sometimes
 * with their own labels): the engine's class partition must tell them apart when ipBlocks match pods,
 * and connectivity must say which ports every pod pair of two workloads has.
 */
const podArb = (relabel: boolean) =>
  fc.record({
    namespace: fc.constantFrom(...NAMESPACES),
    labels: labelsArb(LABEL_KEYS, LABEL_VALUES),
    replicas: fc.array(replicaArb(relabel), { minLength: 1, maxLength: relabel ? 3 : 2 }),
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

export const policyArb = fc.record({
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

const podScopeArb = fc.record({
  namespaceSelector: namespaceSelectorArb,
  podSelector: fc.option(podSelectorArb, { nil: undefined }),
});

const clusterPeerArb: fc.Arbitrary<ClusterPeer> = fc.oneof(
  { weight: 4, arbitrary: podScopeArb.map((scope): ClusterPeer => ({ kind: 'pods', ...scope })) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof({ weight: 3, arbitrary: ipBlockArb(4) }, { weight: 1, arbitrary: ipBlockArb(6) }), {
        minLength: 1,
        maxLength: 2,
      })
      .map((blocks): ClusterPeer => ({ kind: 'networks', cidrs: blocks.map((b) => b.cidr) })),
  },
  {
    weight: 1,
    arbitrary: podSelectorArb.map((nodeSelector): ClusterPeer => ({ kind: 'nodes', nodeSelector })),
  },
);

const clusterPortArb: fc.Arbitrary<ClusterPort> = fc.oneof(
  {
    weight: 3,
    arbitrary: portArb
      .filter((p) => typeof p.port !== 'string')
      .map((p) => ({ kind: 'number', ...p }) as ClusterPort),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...PORT_NAMES, 'missing')
      .map((name): ClusterPort => ({ kind: 'named', name })),
  },
);

const clusterRuleArb = fc.record({
  action: fc.constantFrom('Allow' as const, 'Deny' as const, 'Pass' as const),
  peers: fc.array(clusterPeerArb, { minLength: 1, maxLength: 2 }),
  ports: fc.option(fc.array(clusterPortArb, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 3 }),
});

/** Few priorities, so that same-priority policies (evaluated in input order) come up. */
export const clusterPolicyArb = fc.record({
  tier: fc.constantFrom('Admin' as const, 'Baseline' as const),
  priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 6 }),
  subject: podScopeArb,
  ingress: fc.array(clusterRuleArb, { maxLength: 3 }),
  egress: fc.array(clusterRuleArb, { maxLength: 3 }),
});

/** Nodes whose IPs sit near the pods', so that hostNetwork pods (and others) hold node addresses. */
const nodeArb = fc.record({ labels: labelsArb(LABEL_KEYS, LABEL_VALUES), offset: nearPodOffset });

const clusterArbOf = (relabel: boolean) =>
  fc.record({
    namespaceLabels: fc.tuple(...NAMESPACES.map(() => labelsArb(LABEL_KEYS, LABEL_VALUES))),
    pods: fc.array(podArb(relabel), { minLength: 1, maxLength: 4 }),
    policies: fc.array(policyArb, { minLength: 1, maxLength: 4 }),
    clusterPolicies: fc.array(clusterPolicyArb, { maxLength: 3 }),
    nodes: fc.array(nodeArb, { maxLength: 2 }),
    probeSeed: fc.nat(),
  });

export const clusterArb = clusterArbOf(false);

/** Clusters whose workloads have pods that carry labels of their own: workloads whose pods differ. */
export const relabelledClusterArb = clusterArbOf(true);

export type Cluster = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

export function toSnapshot(cluster: Cluster, permuted: boolean): Snapshot {
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
    p.replicas.map(({ v4, v6, relabel }, r) => ({
      namespace: p.namespace,
      name: `p${i}-${r}`,
      labels: relabel ? { ...p.labels, ...relabel } : p.labels,
      annotations: {},
      containers: [],
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
  const clusterRules = (
    direction: Direction,
    raw: Cluster['clusterPolicies'][number]['ingress'],
  ): ClusterRule[] =>
    raw.map((r, index) => ({ direction, index, name: `r${index}`, ...r, provenance: PROVENANCE }));
  const clusterPolicies: ClusterPolicy[] = cluster.clusterPolicies.map((p, i) => ({
    kind: p.priority === undefined ? 'BaselineAdminNetworkPolicy' : 'ClusterNetworkPolicy',
    name: `cnp${i}`,
    tier: p.priority === undefined ? 'Baseline' : p.tier,
    priority: p.priority,
    subject: p.subject,
    ingress: clusterRules('ingress', p.ingress),
    egress: clusterRules('egress', p.egress),
    provenance: PROVENANCE,
  }));
  const nodes: Node[] = cluster.nodes.map((n, i) => ({
    name: `node${i}`,
    labels: n.labels,
    ips: [formatIp(4, FAMILIES[4].base + n.offset)],
    provenance: PROVENANCE,
  }));
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
    clusterPolicies,
    ciliumPolicies: [],
    ciliumCidrGroups: [],
    nodes,
    services: [],
    ingresses: [],
    inputs: [],
    warnings: [],
    skippedKinds: new Map(),
    partial: false,
  };
}
