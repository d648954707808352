import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { renderNamespaceBody } from '../report/generated-policies.ts';
import { yaml } from '../testing/yaml.ts';
import { DEFAULT_GROUPING, PRIVATE_RANGES } from './external-peers.ts';
import type { FlowEdge } from './flows.ts';
import { generatePolicies, proveGeneration, withGeneratedPolicies } from './generate.ts';

// The ingress controller (PHI-connected here, so that the proof looks at what reaches it) and an API.
const CLUSTER = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: edge, labels: { data-classification: phi } }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: shop }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: ingress-nginx-controller, namespace: edge }
  spec:
    selector: { matchLabels: { app.kubernetes.io/name: ingress-nginx } }
    template:
      metadata: { labels: { app.kubernetes.io/name: ingress-nginx } }
      spec: { containers: [{ name: controller, image: registry.k8s.io/ingress-nginx/controller }] }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: api, namespace: shop }
  spec:
    selector: { matchLabels: { app: api } }
    template:
      metadata: { labels: { app: api } }
      spec: { containers: [{ name: api, image: api }] }
`;

const INGRESS = 'edge/ingress-nginx-controller[Deployment]';
const API = 'shop/api[Deployment]';

let line = 0;
function edge(ip: string, workload: string, port: number): FlowEdge {
  line++;
  return {
    src: { ip },
    dst: { workload },
    protocol: 'TCP',
    port,
    observed: 'forwarded',
    count: 1,
    events: 1,
    policyAllows: true,
    at: { file: 'flows.csv', line },
  };
}

const PUBLIC_CLIENTS = Array.from(
  { length: 230 },
  (_, i) => `${['192.0.2', '198.51.100', '203.0.113'][i % 3]}.${1 + Math.floor(i / 3)}`,
);
const EDGES: FlowEdge[] = [
  ...PUBLIC_CLIENTS.map((ip) => edge(ip, INGRESS, 443)),
  edge('10.200.1.7', INGRESS, 443),
  edge('10.200.9.1', INGRESS, 443),
  edge('203.0.113.200', API, 8080),
  edge('203.0.113.201', API, 8080),
  edge('203.0.113.203', API, 8080),
];
const GROUPING = { ...DEFAULT_GROUPING, networks: [{ name: 'corporate VPN', cidrs: ['10.200.0.0/16'] }] };

test('generate: 230 internet clients of an ingress controller are one rule, the proof holds', () => {
  const input = buildSnapshot([{ path: 'cluster.yaml', text: CLUSTER }]);
  const generation = generatePolicies(new Engine(input), EDGES, { grouping: GROUPING });
  const policy = generation.namespaces.flatMap((ns) => ns.policies).find((p) => p.workload === INGRESS);
  assert.ok(policy);
  assert.deepEqual(
    policy.ingress.map((rule) => [rule.peers, rule.ports]),
    [
      [[{ ipBlock: '10.200.0.0/16' }], [{ protocol: 'TCP', port: 443 }]],
      [[{ ipBlock: '0.0.0.0/0', except: [...PRIVATE_RANGES.v4] }], [{ protocol: 'TCP', port: 443 }]],
    ],
  );
  assert.match(
    policy.ingress[1]?.comments.join('\n') ?? '',
    /^from the internet \(230 public clients\): 230 connection\(s\): TCP 443 ×230\nA public entry point \(an ingress controller \(ingress-nginx-controller\)\) that served 230 public clients: every public address is allowed \(0\.0\.0\.0\/0 minus private ranges\), as a list of the clients seen would deny the next one\.$/,
  );
  // An API that is no entry point: the smallest blocks covering its three clients.
  const api = generation.namespaces.flatMap((ns) => ns.policies).find((p) => p.workload === API);
  assert.deepEqual(
    api?.ingress.map((rule) => rule.peers),
    [[{ ipBlock: '203.0.113.200/30' }]],
  );

  // The proof, on the policies as written: every observed edge allowed; the ingress controller's
  // public clients counted as observed for 0.0.0.0/0 minus private ranges, on port 443 only.
  const bodies = generation.namespaces.map((ns) => ({
    path: `${ns.namespace}.yaml`,
    text: renderNamespaceBody(ns),
  }));
  assert.match(
    bodies.map((b) => b.text).join('\n'),
    /cidr: 0\.0\.0\.0\/0\n {12}except: \[10\.0\.0\.0\/8, 100\.64\.0\.0\/10/,
  );
  const loaded = buildSnapshot(bodies);
  assert.deepEqual(loaded.warnings, []);
  const applied = withGeneratedPolicies(input, loaded.policies, new Set(['edge', 'shop']));
  const phi = new Set([INGRESS]);
  const proof = proveGeneration(
    new Engine(applied),
    generation.edges,
    phi,
    generation.unitOf,
    generation.widened,
  );
  assert.ok(proof.ok, JSON.stringify(proof.unobserved));
  assert.equal(proof.edges, EDGES.length);
  // Without the widened blocks, every public address not seen would be an unobserved path into PHI.
  const strict = proveGeneration(new Engine(applied), generation.edges, phi, generation.unitOf);
  assert.equal(strict.ok, false);
});

test('generate: a few internet clients of an entry point stay their covering blocks', () => {
  const input = buildSnapshot([{ path: 'cluster.yaml', text: CLUSTER }]);
  const generation = generatePolicies(
    new Engine(input),
    PUBLIC_CLIENTS.slice(0, 5).map((ip) => edge(ip, INGRESS, 443)),
    {
      grouping: GROUPING,
    },
  );
  const policy = generation.namespaces.flatMap((ns) => ns.policies).find((p) => p.workload === INGRESS);
  assert.deepEqual(
    policy?.ingress.map((rule) => rule.peers),
    [[{ ipBlock: '192.0.2.0/30' }, { ipBlock: '198.51.100.0/30' }, { ipBlock: '203.0.113.1/32' }]],
  );
});
