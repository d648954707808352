import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { explainNamedConnection } from '../analysis/explain-named.ts';
import { resolveEndpoint } from '../analysis/resolve.ts';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { namedExplanationJson, renderNamedExplanationText } from '../report/explain-named.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import type { Graph } from './api-types.ts';
import { ServeState } from './state.ts';
import { clinicApp } from './test-support.ts';

const TEXT = `${CILIUM_CLUSTER}\n---\n${yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: web, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: web}}
    egress:
      - toFQDNs: [{matchName: api.stripe.com}]
        toPorts: [{ports: [{port: "443", protocol: TCP}]}]
`}`;

const snapshot = buildSnapshot([{ path: 'c.yaml', text: TEXT }]);
const state = await ServeState.create(snapshot, {
  config: DEFAULT_CONFIG,
  engineOptions: CILIUM_OPTIONS,
  source: { kind: 'files', label: 'c.yaml' },
});
after(() => state.close());
const { request } = clinicApp(state);

test('explain on an edge to a peer known by name (toFQDNs) answers as `phiwall explain FROM fqdn:NAME` does', async () => {
  const graph = (await (await request('/api/graph')).json()) as Graph;
  const edge = graph.edges.find((e) => e.target === 'external:fqdn:api.stripe.com');
  assert.ok(edge, JSON.stringify(graph.edges.map((e) => e.id)));
  const cli = (port?: number) =>
    explainNamedConnection(
      new Engine(snapshot, CILIUM_OPTIONS),
      resolveEndpoint(snapshot, 'shop/web'),
      'fqdn:api.stripe.com',
      port === undefined ? undefined : { protocol: 'TCP', port },
    );
  for (const port of [undefined, 443, 80]) {
    const params = new URLSearchParams({
      from: edge.source,
      to: edge.target,
      ...(port ? { port: `${port}` } : {}),
    });
    const response = await request(`/api/explain?${params}`);
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { text: string; json: unknown };
    assert.deepEqual(answer, {
      text: renderNamedExplanationText(cli(port)),
      json: namedExplanationJson(cli(port)),
    });
  }
  const allowed = await request(
    `/api/explain?${new URLSearchParams({ from: edge.source, to: edge.target, port: '443' })}`,
  );
  assert.match(((await allowed.json()) as { text: string }).text, /\nVerdict on TCP 443: ALLOWED\n/);

  // A name is a destination only, from an address outside the cluster no policy governs it.
  for (const [from, to, pattern] of [
    [edge.target, edge.source, /toFQDNs destination/],
    ['external:0.0.0.0/0', edge.target, /address outside the cluster/],
  ] as const) {
    const bad = await request(`/api/explain?${new URLSearchParams({ from, to })}`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, pattern);
  }
});
