/**
 * Test support: random Calico resources beside a random cluster (random-cluster.ts), for the property
 * test of the Calico tiers. Small alphabets, so that selectors, tiers and network sets interact often.
 */
import fc from 'fast-check';
import type {
  CalicoAction,
  CalicoNetworkSet,
  CalicoPolicy,
  CalicoPort,
  CalicoProfile,
  CalicoProtocol,
  CalicoResources,
  CalicoRule,
  CalicoTier,
  EntityRule,
} from '../model/calico.ts';
import { DEFAULT_TIER, DEFAULT_TIER_DEFINITION } from '../model/calico.ts';
import { type CalicoSelector, type SelectorExpr, selectorKey } from '../model/calico-selector.ts';
import type { Direction, Provenance, Snapshot } from '../model/types.ts';

const NAMESPACES = ['default', 'ns1', 'ns2'];
const KEYS = ['app', 'tier', 'env'];
const VALUES = ['a', 'b', 'c'];
const ACCOUNTS = ['default', 'sa1'];
const NETS = [
  '10.0.0.0/28',
  '10.0.0.8/29',
  '10.0.0.3/32',
  '10.0.1.0/24',
  '10.0.0.0/16',
  '192.0.2.0/24',
  '0.0.0.0/0',
  'fd00::/120',
  'fd00::100/121',
];
const PORTS = [1, 53, 79, 80, 443, 8080, 65535];
const PORT_NAMES = ['http', 'dns', 'metrics'];
const PROVENANCE: Provenance = { file: 'gen', locate: () => ({ line: 1, column: 1 }) };

const leafArb = (keys: readonly string[], values: readonly string[]): fc.Arbitrary<SelectorExpr> =>
  fc.oneof(
    fc.constant<SelectorExpr>({ op: 'all' }),
    fc.constant<SelectorExpr>({ op: 'global' }),
    fc.constantFrom(...keys).map((key): SelectorExpr => ({ op: 'has', key })),
    fc
      .record({
        op: fc.constantFrom(
          '==' as const,
          '!=' as const,
          'starts with' as const,
          'ends with' as const,
          'contains' as const,
        ),
        key: fc.constantFrom(...keys),
        value: fc.constantFrom(...values, ''),
      })
      .map((e): SelectorExpr => e),
    fc
      .record({
        op: fc.constantFrom('in' as const, 'not in' as const),
        key: fc.constantFrom(...keys),
        values: fc.uniqueArray(fc.constantFrom(...values), { maxLength: 2 }),
      })
      .map((e): SelectorExpr => e),
  );

function exprArb(keys: readonly string[], values: readonly string[]): fc.Arbitrary<SelectorExpr> {
  const leaf = leafArb(keys, values);
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: leaf.map((expr): SelectorExpr => ({ op: '!', expr })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ op: fc.constantFrom('&&' as const, '||' as const), left: leaf, right: leaf })
        .map((e): SelectorExpr => e),
    },
  );
}

const selector = (keys: readonly string[], values: readonly string[]): fc.Arbitrary<CalicoSelector> =>
  exprArb(keys, values).map((expr) => ({ source: selectorKey(expr), expr }));
const podSelectorArb = selector(
  [...KEYS, 'projectcalico.org/namespace', 'projectcalico.org/serviceaccount', 'role'],
  [...VALUES, ...NAMESPACES, ...ACCOUNTS],
);
const namespaceSelectorArb = selector([...KEYS, 'projectcalico.org/name'], [...VALUES, ...NAMESPACES]);
const accountSelectorArb = selector(['projectcalico.org/name'], ACCOUNTS);

const portArb: fc.Arbitrary<CalicoPort> = fc.oneof(
  fc.constantFrom(...PORTS).map((port): CalicoPort => ({ kind: 'range', from: port, to: port })),
  fc
    .record({ from: fc.constantFrom(...PORTS), width: fc.constantFrom(1, 3, 1000) })
    .map(({ from, width }): CalicoPort => ({ kind: 'range', from, to: Math.min(65535, from + width) })),
  fc.constantFrom(...PORT_NAMES, 'missing').map((name): CalicoPort => ({ kind: 'named', name })),
);

const entityArb = (withPorts: boolean): fc.Arbitrary<EntityRule> =>
  fc
    .record(
      {
        nets: fc.uniqueArray(fc.constantFrom(...NETS), { minLength: 1, maxLength: 2 }),
        notNets: fc.uniqueArray(fc.constantFrom(...NETS), { minLength: 1, maxLength: 2 }),
        selector: podSelectorArb,
        notSelector: podSelectorArb,
        namespaceSelector: namespaceSelectorArb,
        serviceAccounts: fc.record(
          {
            names: fc.uniqueArray(fc.constantFrom(...ACCOUNTS), { maxLength: 1 }),
            selector: accountSelectorArb,
          },
          { requiredKeys: ['names'] },
        ),
        ports: fc.array(portArb, { minLength: 1, maxLength: 2 }),
        notPorts: fc.array(portArb, { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((entity) => {
      if (withPorts) return entity;
      const { ports: _ports, notPorts: _notPorts, ...rest } = entity;
      return rest;
    });

const ruleArb = fc.record({
  action: fc.constantFrom<CalicoAction>('Allow', 'Allow', 'Deny', 'Pass', 'Log'),
  protocol: fc.option(fc.constantFrom<CalicoProtocol>('TCP', 'UDP', 6, 'SCTP', 'ICMP'), {
    nil: undefined,
    freq: 2,
  }),
  notProtocol: fc.option(fc.constantFrom<CalicoProtocol>('TCP', 'UDP'), { nil: undefined, freq: 4 }),
  ipVersion: fc.option(fc.constantFrom<4 | 6>(4, 6), { nil: undefined, freq: 5 }),
  source: entityArb(false),
  destination: entityArb(true),
});

function toRule(raw: RawRule, direction: Direction, index: number): CalicoRule {
  const portsAllowed =
    raw.protocol === 'TCP' || raw.protocol === 'UDP' || raw.protocol === 6 || raw.protocol === 'SCTP';
  const destination = portsAllowed ? raw.destination : withoutPorts(raw.destination);
  // Keep only what Calico's validator accepts: no nets of the other family than ipVersion.
  const fit = (entity: EntityRule): EntityRule => {
    if (raw.ipVersion === undefined) return entity;
    const family = (net: string) => (net.includes(':') ? 6 : 4);
    const keep = (nets?: readonly string[]) => nets?.filter((n) => family(n) === raw.ipVersion);
    const { nets, notNets, ...rest } = entity;
    const n = keep(nets);
    const nn = keep(notNets);
    return { ...rest, ...(n?.length && { nets: n }), ...(nn?.length && { notNets: nn }) };
  };
  return {
    direction,
    index,
    action: raw.action,
    ...(raw.protocol !== undefined && { protocol: raw.protocol }),
    ...(raw.notProtocol !== undefined && { notProtocol: raw.notProtocol }),
    ...(raw.ipVersion !== undefined && { ipVersion: raw.ipVersion }),
    source: fit(raw.source),
    destination: fit(destination),
    provenance: PROVENANCE,
  };
}

type RawRule = typeof ruleArb extends fc.Arbitrary<infer T> ? T : never;

function withoutPorts(entity: EntityRule): EntityRule {
  const { ports: _ports, notPorts: _notPorts, ...rest } = entity;
  return rest;
}

const tierArb = fc.record({
  order: fc.option(fc.constantFrom(100, 1000, 2000, 5_000_000, 20_000_000), { nil: undefined, freq: 4 }),
  defaultAction: fc.constantFrom<'Deny' | 'Pass'>('Deny', 'Pass'),
});

const policyArb = fc.record({
  global: fc.boolean(),
  namespace: fc.constantFrom(...NAMESPACES),
  tier: fc.nat({ max: 2 }),
  order: fc.option(fc.constantFrom(1, 10, 1000, 1000.5), { nil: undefined, freq: 3 }),
  selector: podSelectorArb,
  namespaceSelector: fc.option(namespaceSelectorArb, { nil: undefined, freq: 3 }),
  serviceAccountSelector: fc.option(accountSelectorArb, { nil: undefined, freq: 5 }),
  types: fc.option(fc.record({ ingress: fc.boolean(), egress: fc.boolean() }), { nil: undefined }),
  ingress: fc.array(ruleArb, { maxLength: 3 }),
  egress: fc.array(ruleArb, { maxLength: 3 }),
});

const networkSetArb = fc.record({
  namespace: fc.option(fc.constantFrom(...NAMESPACES), { nil: undefined }),
  labels: fc.dictionary(fc.constantFrom(...KEYS, 'role'), fc.constantFrom(...VALUES), { maxKeys: 2 }),
  nets: fc.uniqueArray(fc.constantFrom(...NETS), { minLength: 1, maxLength: 2 }),
});

export const calicoArb = fc.record({
  tiers: fc.array(tierArb, { maxLength: 2 }),
  policies: fc.array(policyArb, { minLength: 1, maxLength: 4 }),
  networkSets: fc.array(networkSetArb, { maxLength: 2 }),
  profiles: fc.array(
    fc.record({
      namespace: fc.constantFrom(...NAMESPACES),
      ingress: fc.array(ruleArb, { maxLength: 2 }),
      egress: fc.array(ruleArb, { maxLength: 2 }),
    }),
    { maxLength: 1 },
  ),
  accounts: fc.array(fc.constantFrom(...ACCOUNTS), { minLength: 8, maxLength: 8 }),
});

export type CalicoCluster = typeof calicoArb extends fc.Arbitrary<infer T> ? T : never;

/** The snapshot with service accounts on its pods and the Calico resources added. */
export function withCalico(snapshot: Snapshot, raw: CalicoCluster): Snapshot {
  const tiers: CalicoTier[] = [
    DEFAULT_TIER_DEFINITION,
    ...raw.tiers.map((t, i) => ({
      name: `t${i}`,
      ...(t.order !== undefined && { order: t.order }),
      defaultAction: t.defaultAction,
    })),
  ];
  const rules = (direction: Direction, list: readonly RawRule[]) =>
    list.map((r, i) => toRule(r, direction, i));
  const policies: CalicoPolicy[] = raw.policies.map((p, i) => {
    const ingress = rules('ingress', p.ingress);
    const egress = rules('egress', p.egress);
    const types = p.types ?? {
      ingress: ingress.length > 0 || egress.length === 0,
      egress: egress.length > 0,
    };
    return {
      kind: p.global ? 'GlobalNetworkPolicy' : 'NetworkPolicy',
      ...(!p.global && { namespace: p.namespace }),
      name: `cp${i}`,
      tier: tiers[p.tier]?.name ?? DEFAULT_TIER,
      ...(p.order !== undefined && { order: p.order }),
      selector: p.selector,
      ...(p.global && p.namespaceSelector && { namespaceSelector: p.namespaceSelector }),
      ...(p.serviceAccountSelector && { serviceAccountSelector: p.serviceAccountSelector }),
      types,
      ingress: types.ingress ? ingress : [],
      egress: types.egress ? egress : [],
      provenance: PROVENANCE,
    };
  });
  const networkSets: CalicoNetworkSet[] = raw.networkSets.map((s, i) => ({
    ...(s.namespace !== undefined && { namespace: s.namespace }),
    name: `set${i}`,
    labels: s.labels,
    nets: s.nets,
    provenance: PROVENANCE,
  }));
  const profiles: CalicoProfile[] = raw.profiles.map((p) => ({
    name: `kns.${p.namespace}`,
    ingress: rules('ingress', p.ingress),
    egress: rules('egress', p.egress),
    provenance: PROVENANCE,
  }));
  const calico: CalicoResources = { policies, tiers, networkSets, profiles };
  const pods = snapshot.pods.map((pod, i) => ({
    ...pod,
    serviceAccount: raw.accounts[i % raw.accounts.length] as string,
  }));
  const byOld = new Map(snapshot.pods.map((pod, i) => [pod, pods[i]]));
  return {
    ...snapshot,
    pods,
    workloads: snapshot.workloads.map((w) => ({ ...w, pods: w.pods.map((p) => byOld.get(p) ?? p) })),
    calico,
  };
}
