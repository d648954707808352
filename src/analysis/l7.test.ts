import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAudit } from '../compliance/audit.ts';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { connectionLine, connectivityJson } from '../report/connectivity.ts';
import { renderExplanationText } from '../report/explain.ts';
import { connectionEdge } from '../server/graph.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import { computeConnectivity } from './connectivity.ts';
import { explainConnection } from './explain.ts';
import { resolveEndpoint } from './resolve.ts';

// Cilium's docs (Layer 7 policy): a rule with `toPorts[].rules` allows the port at L4 and sends its
// traffic to the proxy, which filters requests; phiwall marks such connections `L7-filtered`, with the rule.

const POLICIES = yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: api, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: api}}
    ingress:
      - fromEndpoints:  # api-http
          - matchLabels: {app: web}
          - matchLabels: {k8s:io.kubernetes.pod.namespace: ops, app: web}
          - matchLabels: {app: db}
        toPorts:
          - ports: [{port: http, protocol: TCP}]
            rules: {http: [{method: GET, path: /orders}]}
      - fromEndpoints: [{matchLabels: {app: db}}]  # api-plain
        toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
  ---
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: db, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: db}}
    egress:
      - toEntities: [world]  # db-world
        toPorts:
          - ports: [{port: "443", protocol: TCP}]
            rules: {http: [{method: POST}]}
      - toEndpoints: [{matchLabels: {app: api}}]
        toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`;

const text = `${CILIUM_CLUSTER}\n---\n${POLICIES}`;
const at = (marker: string) => `c.yaml:${text.split('\n').findIndex((l) => l.endsWith(`# ${marker}`)) + 1}`;
const snapshot = buildSnapshot([{ path: 'c.yaml', text }]);
const engine = new Engine(snapshot, CILIUM_OPTIONS);
const connections = computeConnectivity(engine);
const line = (prefix: string) => connections.map(connectionLine).filter((l) => l.startsWith(prefix));

test('connectivity marks the ports an L7 rule allows, with the rule, and only those', () => {
  assert.deepEqual(line('shop/web[Pod] => shop/api[Pod]'), [
    'shop/web[Pod] => shop/api[Pod] : TCP 8080  [L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]]',
  ]);
  assert.deepEqual(line('ops/tool[Pod] => shop/api[Pod]'), [
    'ops/tool[Pod] => shop/api[Pod] : TCP 8080  [L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]]',
  ]);
  // The L7 rule matches db too, but so does an L3/L4 rule on the same port: its L7 part has no effect.
  assert.deepEqual(line('shop/db[Pod] => shop/api[Pod]'), ['shop/db[Pod] => shop/api[Pod] : TCP 8080']);
  // To the internet, on the egress side's rule; the hostNetwork pod on the node without Cilium is world too.
  const world = line('shop/db[Pod] => ').filter((l) => !l.includes('=> shop/'));
  assert.equal(world.length, 2, world.join('\n'));
  for (const l of world)
    assert.match(
      l,
      / : TCP 443 .*\[L7-filtered \(http\) on TCP 443 by CiliumNetworkPolicy\/shop\/db egress\[0\]\]$/,
    );
  assert.ok(world.some((l) => l.startsWith('shop/db[Pod] => ops/outsider[Pod]')));
});

test('connectivity JSON keeps its fields and adds l7Filtered with the rule, its line and ports', () => {
  const json = connectivityJson({ snapshot, connections, options: {} });
  const web = json.connections.find(
    (c) =>
      'workload' in c.src &&
      c.src.workload === 'shop/web[Pod]' &&
      'workload' in c.dst &&
      c.dst.workload === 'shop/api[Pod]',
  );
  assert.deepEqual(web, {
    src: { workload: 'shop/web[Pod]' },
    dst: { workload: 'shop/api[Pod]' },
    ports: { TCP: [[8080, 8080]] },
    l7Filtered: [
      {
        rule: 'CiliumNetworkPolicy/shop/api ingress[0]',
        at: at('api-http'),
        note: 'L7-filtered (http)',
        ports: { TCP: [[8080, 8080]] },
      },
    ],
  });
});

test('explain names the L7 rule on its step', () => {
  const e = explainConnection(
    engine,
    resolveEndpoint(snapshot, 'shop/web'),
    resolveEndpoint(snapshot, 'shop/api'),
    {
      protocol: 'TCP',
      port: 8080,
    },
  );
  assert.match(
    renderExplanationText(e),
    new RegExp(
      `^ {2}NetworkPolicy: CiliumNetworkPolicy/shop/api ingress\\[0\\] \\[L7-filtered \\(http\\)\\] \\(${at('api-http')}\\): Allow on TCP 8080 {2}<- matches$`,
      'm',
    ),
  );
});

test('audit evidence: the edge is marked and the rule named as L7-filtered', () => {
  // shop is PHI; tool (ops) is a non-PHI source with no approved flow: HIPAA-NP-012 lists its edge.
  const result = runAudit(
    engine,
    { ...DEFAULT_CONFIG, phi: { selectors: [{ key: 'team', values: ['shop'] }], connectedSelectors: [] } },
    { now: new Date('2026-11-27') },
  );
  const finding = result.findings.find(
    (f) => f.check === 'HIPAA-NP-012' && f.objects.includes('shop/api[Pod]'),
  );
  assert.ok(finding, JSON.stringify(result.findings.filter((f) => f.check === 'HIPAA-NP-012')));
  assert.ok(
    finding.evidence.edges?.includes(
      'ops/tool[Pod] -> shop/api[Pod] TCP 8080 [L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]]',
    ),
    JSON.stringify(finding.evidence),
  );
  assert.ok(
    finding.evidence.rules?.some(
      (r) =>
        r.rule === 'CiliumNetworkPolicy/shop/api ingress[0] (Allow, L7-filtered (http))' &&
        r.at === at('api-http'),
    ),
    JSON.stringify(finding.evidence.rules),
  );
});

test('serve: the graph edge carries the L7 mark', () => {
  const web = connections.find(
    (c) =>
      'workload' in c.src &&
      c.src.workload === 'shop/web[Pod]' &&
      'workload' in c.dst &&
      c.dst.workload === 'shop/api[Pod]',
  );
  assert.ok(web);
  assert.equal(
    connectionEdge(web, () => false).l7Filtered,
    'L7-filtered (http) on TCP 8080 by CiliumNetworkPolicy/shop/api ingress[0]',
  );
  const plain = connections.find(
    (c) =>
      'workload' in c.src &&
      c.src.workload === 'shop/db[Pod]' &&
      'workload' in c.dst &&
      c.dst.workload === 'shop/api[Pod]',
  );
  assert.equal(plain && 'l7Filtered' in connectionEdge(plain, () => false), false);
});
