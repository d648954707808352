import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { connectionLine, connectivityJson } from '../report/connectivity.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import { computeConnectivity } from './connectivity.ts';
import { diffConnectivity } from './diff.ts';

// Cilium's docs (DNS based policies): toFQDNs allows egress to the addresses a name resolves to at run
// time. Offline those are unknown, so phiwall shows the destination as the peer `fqdn:<pattern>`.

const fqdnPolicy = (app: string, extra = '') => yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: ${app}, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: ${app}}}
    egress:
      - toFQDNs: [{matchPattern: "*.example.com"}]
        toPorts:
          - ports: [{port: "443", protocol: TCP}]
            rules: {http: [{method: GET}]}
      - toFQDNs: [{matchName: API.Stripe.com.}]
        toPorts: [{ports: [{port: "443", protocol: TCP}, {port: "80", protocol: TCP}]}]
      - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system}}]
        toPorts:
          - ports: [{port: "53", protocol: ANY}]
            rules: {dns: [{matchPattern: "*"}]}
    ${extra}
`;

function lines(policies: string): string[] {
  const snapshot = buildSnapshot([{ path: 'c.yaml', text: `${CILIUM_CLUSTER}\n---\n${policies}` }]);
  return computeConnectivity(new Engine(snapshot, CILIUM_OPTIONS)).map(connectionLine);
}

test('toFQDNs destinations are peers named fqdn:<pattern>, on the rule ports, marked as resting on DNS', () => {
  const out = lines(fqdnPolicy('web')).filter((l) => l.includes('fqdn:'));
  assert.deepEqual(out, [
    'shop/web[Pod] => fqdn:*.example.com : TCP 443  (depends on: dns-resolution)  [L7-filtered (http) on TCP 443 by CiliumNetworkPolicy/shop/web egress[0]]',
    // Cilium matches names lower-case and without the trailing dot.
    'shop/web[Pod] => fqdn:api.stripe.com : TCP 80,443  (depends on: dns-resolution)',
  ]);
});

test('a deny of every address outside the cluster takes its ports from named peers; a deny of some addresses does not', () => {
  const denyWorld443 = `egressDeny: [{toEntities: [world], toPorts: [{ports: [{port: "443", protocol: TCP}]}]}]`;
  assert.deepEqual(
    lines(fqdnPolicy('web', denyWorld443)).filter((l) => l.includes('fqdn:')),
    ['shop/web[Pod] => fqdn:api.stripe.com : TCP 80  (depends on: dns-resolution)'],
  );
  // The names may or may not resolve into 203.0.113.0/24: the answer stands, resting on DNS.
  const denySome = `egressDeny: [{toCIDR: [203.0.113.0/24]}]`;
  assert.equal(lines(fqdnPolicy('web', denySome)).filter((l) => l.includes('fqdn:')).length, 2);
});

test('connectivity JSON: a named peer is an external peer, the contract shape unchanged', () => {
  const snapshot = buildSnapshot([{ path: 'c.yaml', text: `${CILIUM_CLUSTER}\n---\n${fqdnPolicy('web')}` }]);
  const connections = computeConnectivity(new Engine(snapshot, CILIUM_OPTIONS));
  const json = connectivityJson({ snapshot, connections, options: {} });
  const stripe = json.connections.find(
    (c) => 'external' in c.dst && c.dst.external[0] === 'fqdn:api.stripe.com',
  );
  assert.deepEqual(stripe, {
    src: { workload: 'shop/web[Pod]' },
    dst: { external: ['fqdn:api.stripe.com'] },
    ports: {
      TCP: [
        [80, 80],
        [443, 443],
      ],
    },
    dependsOn: ['dns-resolution'],
  });
});

test('diff: a named peer appears and disappears by name', () => {
  const engineOf = (policies: string) =>
    new Engine(
      buildSnapshot([{ path: 'c.yaml', text: `${CILIUM_CLUSTER}\n---\n${policies}` }]),
      CILIUM_OPTIONS,
    );
  const before = engineOf(fqdnPolicy('web'));
  const after = engineOf(fqdnPolicy('web').replace('API.Stripe.com.', 'api.paypal.com'));
  const changes = diffConnectivity(before, after, new Set()).changes.filter((c) =>
    [c.src, c.dst].some((p) => 'external' in p && p.external[0]?.startsWith('fqdn:')),
  );
  assert.deepEqual(
    changes.map((c) => `${c.kind} ${'external' in c.dst ? c.dst.external.join(',') : ''}`),
    ['added fqdn:api.paypal.com', 'removed fqdn:api.stripe.com'],
  );
});
