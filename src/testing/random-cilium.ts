/**
 * Test support: random CiliumNetworkPolicies, CiliumClusterwideNetworkPolicies and CiliumCIDRGroups
 * beside a random cluster (random-cluster.ts), built directly as model objects (as the loader leaves
 * them: selectors already carry their label sources and namespaces).
 */
import fc from 'fast-check';
import {
  CILIUM_ENTITIES,
  type CiliumCidrGroup,
  type CiliumPeer,
  type CiliumPolicy,
  type CiliumPolicyKind,
  type CiliumPort,
  type CiliumRule,
  type CiliumSelector,
} from '../model/cilium.ts';
import { type Direction, PROTOCOLS, type Provenance, type Snapshot } from '../model/types.ts';

const PROVENANCE: Provenance = { file: 'gen', locate: () => ({ line: 1, column: 1 }) };
const NAMESPACES = ['default', 'ns1', 'ns2'];
const ACCOUNTS = ['default', 'sa1'];
const PORT_NAMES = ['http', 'dns', 'metrics'];

/** Keys Cilium policies select on: pod labels, the derived ones, and reserved identities. */
const KEYS: readonly { key: string; values: readonly string[] }[] = [
  { key: 'any:app', values: ['a', 'b', 'c'] },
  { key: 'k8s:tier', values: ['a', 'b', 'c'] },
  { key: 'k8s:io.kubernetes.pod.namespace', values: NAMESPACES },
  { key: 'any:io.cilium.k8s.policy.serviceaccount', values: ACCOUNTS },
  { key: 'k8s:io.cilium.k8s.namespace.labels.env', values: ['a', 'b', 'c'] },
  { key: 'reserved:host', values: [''] },
  { key: 'reserved:world', values: [''] },
];

const selectorArb: fc.Arbitrary<CiliumSelector> = fc.record({
  matchLabels: fc
    .array(
      fc.constantFrom(...KEYS).chain((k) => fc.tuple(fc.constant(k.key), fc.constantFrom(...k.values))),
      {
        maxLength: 2,
      },
    )
    .map((entries) => Object.fromEntries(entries)),
  matchExpressions: fc.array(
    fc.constantFrom(...KEYS).chain((k) =>
      fc.oneof(
        fc.record({
          key: fc.constant(k.key),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.uniqueArray(fc.constantFrom(...k.values), { minLength: 1, maxLength: 2 }),
        }),
        fc.record({
          key: fc.constant(k.key),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
          values: fc.constant([]),
        }),
      ),
    ),
    { maxLength: 2 },
  ),
});

/** CIDRs around the generated pods (10.0.0.x, 10.0.1.x), nodes, and far away. */
const cidrArb = fc.constantFrom(
  '0.0.0.0/0',
  '10.0.0.0/8',
  '10.0.0.0/28',
  '10.0.0.8/29',
  '10.0.1.0/24',
  '10.0.0.3/32',
  '192.0.2.0/24',
  '::/0',
  'fd00::/120',
);

const peerArb: fc.Arbitrary<CiliumPeer> = fc.oneof(
  { weight: 4, arbitrary: selectorArb.map((selector): CiliumPeer => ({ kind: 'endpoints', selector })) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...CILIUM_ENTITIES).map((entity): CiliumPeer => ({ kind: 'entity', entity })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        cidr: cidrArb,
        except: fc.uniqueArray(
          fc.constantFrom('10.0.0.0/30', '10.0.0.12/30', '10.0.1.128/25', '192.0.2.1/32'),
          { maxLength: 1 },
        ),
      })
      .map((r): CiliumPeer => ({ kind: 'cidr', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ ref: fc.constantFrom('g0', 'g1', 'missing'), except: fc.constant([] as string[]) })
      .map((r): CiliumPeer => ({ kind: 'cidrGroup', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('a', 'b').map(
      (app): CiliumPeer => ({
        kind: 'nodes',
        selector: { matchLabels: { 'any:app': app }, matchExpressions: [] },
      }),
    ),
  },
  { weight: 1, arbitrary: fc.constant<CiliumPeer>({ kind: 'fqdn', pattern: '*.example.com' }) },
);

const portArb: fc.Arbitrary<CiliumPort> = fc.oneof(
  fc.record({ protocols: fc.constantFrom([...PROTOCOLS], ['TCP' as const], ['UDP' as const]) }),
  fc
    .record({
      port: fc.constantFrom(53, 80, 443, 8080),
      width: fc.constantFrom(0, 0, 1, 100),
      protocols: fc.constantFrom([...PROTOCOLS], ['TCP' as const], ['UDP' as const], ['SCTP' as const]),
    })
    .map(({ port, width, protocols }) => ({
      port,
      ...(width > 0 ? { endPort: port + width } : {}),
      protocols,
    })),
  fc.record({
    port: fc.constantFrom(...PORT_NAMES, 'missing'),
    protocols: fc.constantFrom([...PROTOCOLS], ['TCP' as const]),
  }),
);

const ruleArb = fc.record({
  deny: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  peers: fc.option(fc.array(peerArb, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 5 }),
  l4: fc.oneof(
    { weight: 3, arbitrary: fc.constant<{ ports?: CiliumPort[]; icmpTypes?: number[] }>({}) },
    { weight: 3, arbitrary: fc.array(portArb, { minLength: 1, maxLength: 2 }).map((ports) => ({ ports })) },
    {
      weight: 1,
      arbitrary: fc.uniqueArray(fc.constantFrom(0, 8), { minLength: 1 }).map((icmpTypes) => ({ icmpTypes })),
    },
  ),
  requires: fc.option(
    selectorArb.map((s) => [s]),
    { nil: undefined, freq: 8 },
  ),
});

const policyArb = fc.record({
  clusterwide: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  namespace: fc.constantFrom(...NAMESPACES),
  endpointSelector: fc.oneof(
    { weight: 1, arbitrary: fc.constant<CiliumSelector>({ matchLabels: {}, matchExpressions: [] }) },
    { weight: 2, arbitrary: selectorArb },
  ),
  defaultDeny: fc.record({
    ingress: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    egress: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  }),
  ingress: fc.array(ruleArb, { maxLength: 3 }),
  egress: fc.array(ruleArb, { maxLength: 3 }),
});

export const ciliumArb = fc.record({
  policies: fc.array(policyArb, { minLength: 1, maxLength: 3 }),
  /** The service account of each pod, by index (cycled). */
  accounts: fc.array(fc.constantFrom(...ACCOUNTS), { minLength: 1, maxLength: 4 }),
  /** Nodes with these indexes do not run Cilium. */
  withoutCilium: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
  groups: fc.array(fc.uniqueArray(cidrArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
});

export type CiliumCluster = typeof ciliumArb extends fc.Arbitrary<infer T> ? T : never;

/** The snapshot with the generated Cilium policies, service accounts, CIDR groups and non-Cilium nodes. */
export function withCilium(snapshot: Snapshot, cilium: CiliumCluster): Snapshot {
  const rules = (direction: Direction, raw: CiliumCluster['policies'][number]['ingress']): CiliumRule[] =>
    raw.map((r, index) => ({
      direction,
      deny: r.deny,
      field: r.deny ? `${direction}Deny` : direction,
      index,
      ...(r.peers ? { peers: r.peers } : {}),
      ...r.l4,
      ...(r.requires ? { requires: r.requires } : {}),
      provenance: PROVENANCE,
    }));
  const ciliumPolicies: CiliumPolicy[] = cilium.policies.map((p, i) => {
    const kind: CiliumPolicyKind = p.clusterwide ? 'CiliumClusterwideNetworkPolicy' : 'CiliumNetworkPolicy';
    const namespace = p.clusterwide ? '' : p.namespace;
    const endpointSelector = namespace
      ? {
          ...p.endpointSelector,
          matchLabels: { ...p.endpointSelector.matchLabels, 'k8s:io.kubernetes.pod.namespace': namespace },
        }
      : p.endpointSelector;
    return {
      kind,
      namespace,
      name: `cnp${i}`,
      specPath: 'spec',
      endpointSelector,
      defaultDeny: p.defaultDeny,
      ingress: rules('ingress', p.ingress),
      egress: rules('egress', p.egress),
      provenance: PROVENANCE,
    };
  });
  const ciliumCidrGroups: CiliumCidrGroup[] = cilium.groups.map((cidrs, i) => ({
    name: `g${i}`,
    labels: {},
    cidrs,
    provenance: PROVENANCE,
  }));
  return {
    ...snapshot,
    pods: snapshot.pods.map((pod, i) => ({
      ...pod,
      serviceAccount: cilium.accounts[i % cilium.accounts.length] as string,
    })),
    nodes: snapshot.nodes.map((node, i) =>
      cilium.withoutCilium[i]
        ? { ...node, labels: { ...node.labels, 'cilium.io/no-schedule': 'true' } }
        : node,
    ),
    ciliumPolicies,
    ciliumCidrGroups,
  };
}
