import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { explainConnection, type PortQuery } from '../analysis/explain.ts';
import { resolveEndpoint } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot, loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import { explanationJson, reasonFor, renderExplanationText } from './explain.ts';

// Expected lines follow Cilium's documented semantics (docs/semantics.md, Cilium section): a rule in a
// direction isolates it unless enableDefaultDeny switches that off; a deny wins over every allow,
// whichever kind holds it; CIDR rules never match pods; `world` is what is neither pod nor node.

const POLICIES = yaml`
  # db: a CNP, a NetworkPolicy and a CCNP deny for web on 5432
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: db, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: db}}
    ingress:
      - fromEndpoints: [{matchLabels: {app: web}}, {matchLabels: {app: api}}]  # db-allow
        toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
    egress:
      - toEntities: [world]  # db-world
        toPorts: [{ports: [{port: "443", protocol: TCP}]}]
      - toCIDR: [10.0.0.0/8]  # db-cidr
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: db-np, namespace: shop}
  spec:
    podSelector: {matchLabels: {app: db}}
    policyTypes: [Ingress]
    ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}]  # np-allow
        ports: [{port: 5432}]
  ---
  apiVersion: cilium.io/v2
  kind: CiliumClusterwideNetworkPolicy
  metadata: {name: no-web}
  spec:  # no-web
    endpointSelector: {matchLabels: {k8s:io.kubernetes.pod.namespace: shop, app: db}}
    ingressDeny:
      - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: shop, app: web}}]  # deny-web
        toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  ---
  # api: takes the internet on its named port, and anything else only because it is not isolated
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: api, namespace: shop}
  spec:  # api-policy
    endpointSelector: {matchLabels: {app: api}}
    enableDefaultDeny: {ingress: false}
    ingress:
      - fromEntities: [world]  # api-world
        toPorts: [{ports: [{port: http, protocol: TCP}]}]
`;

const TEXT = `${CILIUM_CLUSTER}\n---\n${POLICIES}`;
const lineOf = (marker: string) => {
  const index = TEXT.split('\n').findIndex((l) => l.endsWith(`# ${marker}`));
  assert.ok(index >= 0, marker);
  return index + 1;
};
const at = (marker: string) => `c.yaml:${lineOf(marker)}`;

function explainText(snapshot: Snapshot, engine: Engine, from: string, to: string, query: PortQuery) {
  const e = explainConnection(engine, resolveEndpoint(snapshot, from), resolveEndpoint(snapshot, to), query);
  return { e, text: renderExplanationText(e) };
}

const snapshot = buildSnapshot([{ path: 'c.yaml', text: TEXT }]);
const engine = new Engine(snapshot, CILIUM_OPTIONS);
const explain = (from: string, to: string, query: PortQuery) =>
  explainText(snapshot, engine, from, to, query);
const ingressLines = (text: string) =>
  text
    .slice(text.indexOf('Ingress to'))
    .split('\n')
    .filter((l) => l.startsWith('  '));
const egressLines = (text: string) =>
  text
    .slice(text.indexOf('Egress from'), text.indexOf('Ingress to'))
    .split('\n')
    .filter((l) => l.startsWith('  '));

describe('explain, Cilium policies', () => {
  test('the deny that wins is shown with the CNP and NetworkPolicy allows it overrides', () => {
    const { e, text } = explain('shop/web', 'shop/db', { protocol: 'TCP', port: 5432 });
    assert.match(text, /Verdict on TCP 5432: DENIED/);
    assert.deepEqual(
      ingressLines(text)[0],
      [
        `  NetworkPolicy: CiliumClusterwideNetworkPolicy/no-web ingressDeny[0] (${at('deny-web')}): Deny on TCP 5432; `,
        `wins over shop/db-np ingress[0] (${at('np-allow')}) on TCP 5432, `,
        `CiliumNetworkPolicy/shop/db ingress[0] (${at('db-allow')}) on TCP 5432  <- matches`,
      ].join(''),
    );
    const json = explanationJson(e) as unknown as {
      ingress: {
        chain: { action: string; rule?: string; overrides?: { rule?: string; policy: string }[] }[];
      };
    };
    const deny = json.ingress.chain[0];
    assert.equal(deny?.rule, 'CiliumClusterwideNetworkPolicy/no-web ingressDeny[0]');
    assert.deepEqual(
      deny?.overrides?.map((o) => o.rule ?? o.policy),
      ['NetworkPolicy', 'CiliumNetworkPolicy/shop/db ingress[0]'],
    );
    assert.match(reasonFor(e), /no-web ingressDeny\[0\].*Deny on TCP 5432/);
  });

  test('an allow no deny matches is the CNP rule with its line; the rest is denied by the isolating policies', () => {
    const { text } = explain('shop/api', 'shop/db', { protocol: 'TCP', port: 5432 });
    assert.match(text, /Verdict on TCP 5432: ALLOWED/);
    const lines = ingressLines(text);
    assert.equal(
      lines[0],
      `  NetworkPolicy: CiliumNetworkPolicy/shop/db ingress[0] (${at('db-allow')}): Allow on TCP 5432  <- matches`,
    );
    // The CNP isolates by its ingress rule (enableDefaultDeny not written, so on); the CCNP by its deny rule.
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^ {2}NetworkPolicy: applies \\(shop/db-np \\(c\\.yaml:\\d+\\), CiliumNetworkPolicy/shop/db \\(c\\.yaml:\\d+: it has ingress rules and enableDefaultDeny\\.ingress is not false\\), CiliumClusterwideNetworkPolicy/no-web \\(${at('no-web')}: it has ingress rules and enableDefaultDeny\\.ingress is not false\\)\\); no rule decided .* for shop/api\\[Pod\\]: denied$`,
      ),
    );
  });

  test('external peers: world is reached by the entity rule, a node is not world (its hostNetwork pod neither), a node without Cilium is, a CIDR rule does not match pods', () => {
    const world = explain('shop/db', '8.8.8.8', { protocol: 'TCP', port: 443 });
    assert.match(world.text, /Verdict on TCP 443: ALLOWED/);
    assert.equal(
      egressLines(world.text)[0],
      `  NetworkPolicy: CiliumNetworkPolicy/shop/db egress[0] (${at('db-world')}): Allow on TCP 443  <- matches`,
    );
    const node = explain('shop/db', '192.168.0.1', { protocol: 'TCP', port: 443 });
    assert.match(node.text, /Verdict on TCP 443: DENIED/);
    assert.match(
      egressLines(node.text).join('\n'),
      /NetworkPolicy: applies \(CiliumNetworkPolicy\/shop\/db \(c\.yaml:\d+: it has egress rules and enableDefaultDeny\.egress is not false\)\); no rule decided all ports for ops\/agent\[Pod\]: denied {2}<- matches/,
    );
    // The hostNetwork pod on a node Cilium does not run on has a world address.
    const offCilium = explain('shop/db', '192.168.0.2', { protocol: 'TCP', port: 443 });
    assert.equal(
      egressLines(offCilium.text)[0],
      `  NetworkPolicy: CiliumNetworkPolicy/shop/db egress[0] (${at('db-world')}): Allow on TCP 443  <- matches`,
    );
    // 10.0.0.0/8 holds web's address, but a CIDR rule applies to traffic outside the cluster only.
    const outside = explain('shop/db', '10.9.9.9', { protocol: 'UDP', port: 53 });
    // 10.9.9.9 is world too: egress[0] takes TCP 443 first, egress[1] the rest.
    assert.deepEqual(
      egressLines(outside.text).filter((l) => l.endsWith('<- matches')),
      [
        `  NetworkPolicy: CiliumNetworkPolicy/shop/db egress[1] (${at('db-cidr')}): Allow on TCP 1-442,444-65535 UDP 1-65535 SCTP 1-65535 ICMP  <- matches`,
      ],
    );
    const pod = explain('shop/db', 'shop/web', { protocol: 'UDP', port: 53 });
    assert.match(pod.text, /Verdict on UDP 53: DENIED/);
    assert.doesNotMatch(pod.text, /egress\[1\]/);
  });

  test('enableDefaultDeny false: the rule still allows, and what it does not is allowed by default, saying why', () => {
    const world = explain('203.0.113.5', 'shop/api', { protocol: 'TCP', port: 8080 });
    assert.equal(
      ingressLines(world.text)[0],
      `  NetworkPolicy: CiliumNetworkPolicy/shop/api ingress[0] (${at('api-world')}): Allow on TCP 8080  <- matches`,
    );
    const { e, text } = explain('ops/tool', 'shop/api', { protocol: 'TCP', port: 9000 });
    assert.match(text, /Verdict on TCP 9000: ALLOWED/);
    assert.deepEqual(ingressLines(text), [
      `  no tier decided all ports: allowed by default (not isolated by CiliumNetworkPolicy/shop/api (${at('api-policy')}: enableDefaultDeny.ingress: false))  <- matches`,
    ]);
    const json = explanationJson(e) as unknown as {
      ingress: { kindIsolatedBy: unknown[]; kindNotIsolating?: { policy: string; why: string }[] };
    };
    assert.deepEqual(json.ingress.kindIsolatedBy, []);
    assert.deepEqual(json.ingress.kindNotIsolating, [
      {
        kind: 'CiliumNetworkPolicy',
        policy: 'CiliumNetworkPolicy/shop/api',
        at: at('api-policy'),
        why: 'enableDefaultDeny.ingress: false',
      },
    ]);
  });
});

test('the Cilium clinic: billing is denied by the cluster-wide guardrail, whatever the namespace policies say', () => {
  const dir = fileURLToPath(new URL('../../examples/hipaa-clinic/cilium/', import.meta.url));
  const clinic = loadSnapshot([dir]);
  const clinicEngine = new Engine(clinic, CILIUM_OPTIONS);
  const { text } = explainText(clinic, clinicEngine, 'billing/invoicing', 'ehr/ehr-api', {
    protocol: 'TCP',
    port: 8443,
  });
  assert.match(text, /Verdict on TCP 8443: DENIED/);
  assert.match(
    ingressLines(text)[0] ?? '',
    /^ {2}NetworkPolicy: CiliumClusterwideNetworkPolicy\/phi-guardrail ingressDeny\[0\] \(.*30-cilium-policies\.yaml:\d+\): Deny on all ports {2}<- matches$/,
  );
  assert.match(
    egressLines(text)[0] ?? '',
    /^ {2}NetworkPolicy: applies \(CiliumClusterwideNetworkPolicy\/default-deny \(.*: it has egress rules and enableDefaultDeny\.egress is not false\)\); no rule decided all ports for ehr\/ehr-api\[Deployment\]: denied {2}<- matches$/,
  );
});
