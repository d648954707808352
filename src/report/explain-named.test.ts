import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PortQuery } from '../analysis/explain.ts';
import { explainNamedConnection } from '../analysis/explain-named.ts';
import { ResolveError, resolveEndpoint } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import { namedExplanationJson, renderNamedExplanationText } from './explain-named.ts';

// Cilium's docs (DNS based policies): toFQDNs allows egress to what the name resolves to at run time;
// matchPattern's `*` stands for the characters of one label (`*.example.com` takes shop.example.com,
// not a.b.example.com nor example.com); a deny wins over every allow, so a deny of `world` takes
// whatever a name resolves to, and a deny of some CIDRs takes it only if the name resolves into them.

const POLICIES = yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: web, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: web}}
    egress:
      - toFQDNs: [{matchPattern: "*.example.com"}]  # pattern
        toPorts:
          - ports: [{port: "443", protocol: TCP}]
            rules: {http: [{method: GET}]}
      - toFQDNs: [{matchName: api.stripe.com}]  # stripe
        toPorts: [{ports: [{port: "443", protocol: TCP}, {port: "80", protocol: TCP}]}]
      - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system}}]
        toPorts:
          - ports: [{port: "53", protocol: ANY}]
            rules: {dns: [{matchPattern: "*"}]}
    egressDeny:
      - toEntities: [world]  # deny-world
        toPorts: [{ports: [{port: "80", protocol: TCP}]}]
      - toCIDR: [203.0.113.0/24]  # deny-some
        toPorts: [{ports: [{port: "443", protocol: TCP}]}]
  ---
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: api, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: api}}
    egress:
      - toEntities: [world]  # api-world
        toPorts: [{ports: [{port: "8443", protocol: TCP}]}]
`;

const TEXT = `${CILIUM_CLUSTER}\n---\n${POLICIES}`;
const at = (marker: string) => {
  const index = TEXT.split('\n').findIndex((l) => l.endsWith(`# ${marker}`));
  assert.ok(index >= 0, marker);
  return `c.yaml:${index + 1}`;
};
const snapshot = buildSnapshot([{ path: 'c.yaml', text: TEXT }]);
const engine = new Engine(snapshot, CILIUM_OPTIONS);
const explain = (from: string, to: string, query?: PortQuery) =>
  explainNamedConnection(engine, resolveEndpoint(snapshot, from), to, query);
const ruleLines = (text: string) => text.split('\n').filter((l) => l.startsWith('  '));

describe('explain to a name (toFQDNs)', () => {
  test('the rule naming it, the deny of every outside address that takes a port, the CIDR deny that may', () => {
    const e = explain('shop/web', 'fqdn:api.stripe.com', { protocol: 'TCP', port: 443 });
    const text = renderNamedExplanationText(e);
    assert.match(text, /^shop\/web\[Pod\] -> fqdn:api\.stripe\.com\n/);
    assert.match(text, /rests on DNS resolution/);
    assert.match(text, /\nVerdict on TCP 443: ALLOWED\nAllowed: TCP 443\n/);
    assert.deepEqual(ruleLines(text), [
      `  allowed by CiliumNetworkPolicy/shop/web egress[1] (${at('stripe')}): TCP 80,443  <- matches`,
      `  denied by CiliumNetworkPolicy/shop/web egressDeny[0] (${at('deny-world')}), a deny of every address outside the cluster, so of whatever fqdn:api.stripe.com resolves to: TCP 80; a deny wins over every allow`,
      `  may be denied by CiliumNetworkPolicy/shop/web egressDeny[1] (${at('deny-some')}), a deny of some addresses outside the cluster, if fqdn:api.stripe.com resolves into them: TCP 443  <- matches`,
    ]);
    const denied = explain('shop/web', 'fqdn:api.stripe.com', { protocol: 'TCP', port: 80 });
    assert.equal(denied.groups[0]?.verdict, false);
  });

  test('a pattern covers a name of one more label, not two, nor the bare domain; the pattern itself answers too', () => {
    const one = renderNamedExplanationText(explain('shop/web', 'fqdn:Shop.Example.com.'));
    assert.match(one, /\nVerdict: ALLOWED on TCP 443\n/);
    assert.ok(
      ruleLines(one).includes(
        `  allowed by CiliumNetworkPolicy/shop/web egress[0] [L7-filtered (http)] (${at('pattern')}): TCP 443`,
      ),
    );
    assert.ok(ruleLines(one).some((l) => l.startsWith('  L7-filtered on TCP 443: ')));
    assert.equal(explain('shop/web', 'fqdn:*.example.com').groups[0]?.allowedBy.length, 1);
    for (const name of ['fqdn:a.b.example.com', 'fqdn:example.com']) {
      const text = renderNamedExplanationText(explain('shop/web', name));
      assert.match(text, /\nVerdict: DENIED on every port and protocol\n/);
      assert.deepEqual(ruleLines(text), [`  no toFQDNs rule of a policy selecting it names ${name}`]);
    }
  });

  test('ports open to every outside address reach the name without a rule naming it', () => {
    // api may send TCP 8443 to world; tool (ops) is selected by no policy, so its egress is open.
    const api = explain('shop/api', 'fqdn:api.stripe.com', { protocol: 'TCP', port: 8443 });
    assert.equal(api.groups[0]?.verdict, true);
    assert.match(
      renderNamedExplanationText(api),
      /open to every address outside the cluster.*: TCP 8443 {2}<- matches/,
    );
    const tool = explain('ops/tool', 'fqdn:api.stripe.com', { protocol: 'UDP', port: 9999 });
    assert.equal(tool.groups[0]?.verdict, true);
    const web = explain('shop/web', 'fqdn:api.stripe.com', { protocol: 'TCP', port: 8443 });
    assert.equal(web.groups[0]?.verdict, false);
  });

  test('JSON: the rules with file:line and ports, the denies, and what the answer rests on', () => {
    const json = namedExplanationJson(
      explain('shop/web', 'fqdn:api.stripe.com', { protocol: 'TCP', port: 443 }),
    );
    assert.deepEqual(
      { ...json, note: undefined },
      {
        from: 'shop/web[Pod]',
        to: 'fqdn:api.stripe.com',
        query: { protocol: 'TCP', port: 443 },
        verdict: 'allow',
        allowed: { TCP: [[443, 443]] },
        allowedBy: [
          {
            policy: 'CiliumNetworkPolicy/shop/web',
            rule: 'CiliumNetworkPolicy/shop/web egress[1]',
            at: at('stripe'),
            ports: {
              TCP: [
                [80, 80],
                [443, 443],
              ],
            },
          },
        ],
        deniedBy: [
          {
            policy: 'CiliumNetworkPolicy/shop/web',
            rule: 'CiliumNetworkPolicy/shop/web egressDeny[0]',
            at: at('deny-world'),
            ports: { TCP: [[80, 80]] },
          },
        ],
        mayBeDeniedBy: [
          {
            policy: 'CiliumNetworkPolicy/shop/web',
            rule: 'CiliumNetworkPolicy/shop/web egressDeny[1]',
            at: at('deny-some'),
            ports: { TCP: [[443, 443]] },
          },
        ],
        everyAddress: {},
        dependsOn: ['dns-resolution'],
        note: undefined,
        partial: false,
      },
    );
    assert.match(json.note, /rests on DNS resolution/);
  });

  test('a name is a destination only', () => {
    assert.throws(
      () => resolveEndpoint(snapshot, 'fqdn:api.stripe.com'),
      (error: unknown) => error instanceof ResolveError && /can only be a destination/.test(error.message),
    );
  });
});

test('explain to a name, pods of a workload apart: one group per answer, the verdict "some" in JSON', () => {
  const pod = (name: string, ip: string, extra: string) => yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: ${name}
      namespace: shop
      labels: {app: pay, pod-template-hash: h1${extra}}
      ownerReferences: [{kind: ReplicaSet, name: pay-h1, controller: true}]
    status: {podIP: ${ip}}
  `;
  const text = [
    yaml`
      apiVersion: v1
      kind: Namespace
      metadata: {name: shop}
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: pay, namespace: shop}
      spec: {template: {metadata: {labels: {app: pay}}}}
      ---
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata:
        name: pay-h1
        namespace: shop
        ownerReferences: [{kind: Deployment, name: pay, controller: true}]
      spec: {template: {metadata: {labels: {app: pay, pod-template-hash: h1}}}}
    `,
    pod('pay-h1-a', '10.0.0.1', ''),
    pod('pay-h1-q', '10.0.0.2', ', quarantine: "true"'),
    yaml`
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata: {name: pay, namespace: shop}
      spec:
        endpointSelector: {matchLabels: {app: pay}}
        egress: [{toFQDNs: [{matchName: api.stripe.com}], toPorts: [{ports: [{port: "443", protocol: TCP}]}]}]
      ---
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata: {name: quarantine, namespace: shop}
      spec:
        endpointSelector: {matchLabels: {quarantine: "true"}}
        egressDeny: [{toEntities: [world]}]
    `,
  ].join('\n---\n');
  const snap = buildSnapshot([{ path: 'c.yaml', text }]);
  const e = explainNamedConnection(
    new Engine(snap, CILIUM_OPTIONS),
    resolveEndpoint(snap, 'shop/pay'),
    'fqdn:api.stripe.com',
    { protocol: 'TCP', port: 443 },
  );
  assert.deepEqual(
    e.groups.map((g) => [g.fromPods.map((p) => p.name), g.verdict]),
    [
      [['pay-h1-a'], true],
      [['pay-h1-q'], false],
    ],
  );
  const rendered = renderNamedExplanationText(e);
  assert.match(rendered, /Verdict on TCP 443: ALLOWED for some pods, DENIED for others/);
  assert.match(rendered, /Group 2 of 2: pods pay-h1-q \(quarantine=true\)/);
  const json = namedExplanationJson(e);
  assert.equal(json.verdict, 'some');
  assert.deepEqual(
    json.groups?.map((g) => [g.from.pods, g.verdict]),
    [
      [['pay-h1-a'], 'allow'],
      [['pay-h1-q'], 'deny'],
    ],
  );
});
