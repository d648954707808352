import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { parseConnectivityTests } from '../load/connectivity-tests.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { connectivityJson, renderConnectivity } from '../report/connectivity.ts';
import { renderTestResults, testResultsJson } from '../report/connectivity-tests.ts';
import { explanationJson, renderExplanationText } from '../report/explain.ts';
import { computeConnectivity } from './connectivity.ts';
import { runConnectivityTests } from './connectivity-tests.ts';
import { explainConnection } from './explain.ts';
import { resolveEndpoint } from './resolve.ts';

/** A ReplicaSet's pod with the labels given, at the IP given. */
const rsPod = (replicaSet: string, name: string, ip: string, labels: string) => `
---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: web
  labels: { ${labels} }
  ownerReferences: [{ kind: ReplicaSet, name: ${replicaSet}, controller: true }]
status: { podIP: ${ip} }`;

const replicaSet = (name: string, labels: string) => `
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ${name}
  namespace: web
  ownerReferences: [{ kind: Deployment, name: api, controller: true }]
spec: { template: { metadata: { labels: { ${labels} } } } }`;

const COMMON = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: web }
spec: { template: { metadata: { labels: { app: api } } } }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: web, labels: { app: client } }
status: { podIP: 10.0.0.9 }`;

/** The example: one of two pods relabelled `quarantine=true` and isolated for egress. */
const QUARANTINE = `${COMMON}${replicaSet('api-5c6b9d', 'app: api, pod-template-hash: 5c6b9d')}
${rsPod('api-5c6b9d', 'api-5c6b9d-ok', '10.0.0.1', 'app: api, pod-template-hash: 5c6b9d')}
${rsPod('api-5c6b9d', 'api-5c6b9d-q', '10.0.0.2', 'app: api, pod-template-hash: 5c6b9d, quarantine: "true"')}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: quarantine, namespace: web }
spec:
  podSelector: { matchLabels: { quarantine: "true" } }
  policyTypes: [Egress]`;

const load = (text: string): Snapshot => buildSnapshot([{ path: 'cluster.yaml', text }]);

test('connectivity: the quarantined pod makes api => client hold for some pods only', () => {
  const snapshot = load(QUARANTINE);
  const connections = computeConnectivity(new Engine(snapshot));
  const json = connectivityJson({ snapshot, connections, options: {} }).connections;
  const toClient = json.find(
    (c) =>
      JSON.stringify([c.src, c.dst]) ===
      '[{"workload":"web/api[Deployment]"},{"workload":"web/client[Pod]"}]',
  );
  // `ports` stays the union over pod pairs; no port is allowed from every pod.
  assert.deepEqual(toClient?.ports, {
    TCP: [[1, 65535]],
    UDP: [[1, 65535]],
    SCTP: [[1, 65535]],
    ICMP: [[0, 255]],
  });
  assert.deepEqual(toClient?.portsAllPods, {});
  // Ingress to api is not isolated: every pod pair agrees, so there is no portsAllPods.
  const fromClient = json.find(
    (c) => JSON.stringify(c.src) === '{"workload":"web/client[Pod]"}' && 'workload' in c.dst,
  );
  assert.ok(fromClient && !('portsAllPods' in fromClient));
  assert.deepEqual(
    renderConnectivity({ snapshot, connections, options: {} }, 'text')
      .split('\n')
      .filter((l) => l.startsWith('web/api')),
    [
      'web/api[Deployment] => web/client[Pod] : all ports (some pods)',
      'web/api[Deployment] => 0.0.0.0/0,::/0 : all ports (some pods)',
    ],
  );
  assert.match(
    renderConnectivity({ snapshot, connections, options: {} }, 'md'),
    /\| web\/api\[Deployment\] \| web\/client\[Pod\] \| all ports \(some pods\) \|/,
  );
  assert.match(
    renderConnectivity({ snapshot, connections, options: {} }, 'csv'),
    /^web\/api\[Deployment\],web\/client\[Pod\],TCP,1-65535,\(some pods\)$/m,
  );
});

test('explain: one verdict per group of pods, naming the pods and the label that sets them apart', () => {
  const snapshot = load(QUARANTINE);
  const engine = new Engine(snapshot);
  const explanation = explainConnection(
    engine,
    resolveEndpoint(snapshot, 'web/api'),
    resolveEndpoint(snapshot, 'web/client'),
    { protocol: 'TCP', port: 80 },
  );
  const text = renderExplanationText(explanation);
  assert.match(
    text,
    /^The pods of web\/api\[Deployment\] are not all treated alike: 2 groups, one answer each$/m,
  );
  assert.match(text, /^Verdict on TCP 80: ALLOWED for some pods, DENIED for others$/m);
  assert.match(
    text,
    /^Group 1 of 2: web\/api\[Deployment\] pod api-5c6b9d-ok \(!quarantine\) -> web\/client\[Pod\]\nVerdict on TCP 80: ALLOWED$/m,
  );
  assert.match(
    text,
    /^Group 2 of 2: web\/api\[Deployment\] pod api-5c6b9d-q \(quarantine=true\) -> web\/client\[Pod\]\nVerdict on TCP 80: DENIED$/m,
  );
  assert.match(text, /isolated by web\/quarantine \(cluster\.yaml:\d+\)/);
  const json = explanationJson(explanation);
  assert.equal(json.verdict, 'some');
  assert.deepEqual(
    json.groups?.map((g) => [g.from?.pods, g.from?.labels, g.verdict]),
    [
      [['api-5c6b9d-ok'], ['!quarantine'], 'allow'],
      [['api-5c6b9d-q'], ['quarantine=true'], 'deny'],
    ],
  );
  // The other way round every pod pair agrees: one answer, as before.
  const back = explainConnection(
    engine,
    resolveEndpoint(snapshot, 'web/client'),
    resolveEndpoint(snapshot, 'web/api'),
  );
  assert.equal(back.groups.length, 1);
  assert.doesNotMatch(renderExplanationText(back), /Group/);
});

test('explain: more than five pods in a group are counted, not named', () => {
  const pods = Array.from({ length: 6 }, (_, i) =>
    rsPod('api-5c6b9d', `api-5c6b9d-${i}`, `10.0.1.${i}`, 'app: api, pod-template-hash: 5c6b9d'),
  ).join('');
  const snapshot = load(`${QUARANTINE}${pods}`);
  const text = renderExplanationText(
    explainConnection(
      new Engine(snapshot),
      resolveEndpoint(snapshot, 'web/api'),
      resolveEndpoint(snapshot, 'web/client'),
    ),
  );
  assert.match(text, /^Group 1 of 2: web\/api\[Deployment\] 7 pods \(!quarantine\) -> web\/client\[Pod\]$/m);
});

test('test: a test between workloads passes only when every pod pair agrees, and fails both ways naming the pods', () => {
  const snapshot = load(QUARANTINE);
  const tests = parseConnectivityTests({
    path: 'tests.yaml',
    text: `tests:
  - {name: api reaches the client, from: web/api, to: web/client, port: 80, expect: allow}
  - {name: api cannot reach the client, from: web/api, to: web/client, port: 80, expect: deny}
  - {name: the quarantined pod is cut off, from: web/api-5c6b9d-q, to: web/client, port: 80, expect: deny}
  - {name: the client reaches api, from: web/client, to: web/api, port: 80, expect: allow}
`,
  });
  const results = runConnectivityTests(new Engine(snapshot), tests);
  assert.deepEqual(
    results.map((r) => [r.name, r.actual, r.pass]),
    [
      ['api reaches the client', 'some', false],
      ['api cannot reach the client', 'some', false],
      ['the quarantined pod is cut off', 'deny', true],
      ['the client reaches api', 'allow', true],
    ],
  );
  const text = renderTestResults(results, 'text');
  for (const name of ['api reaches the client', 'api cannot reach the client']) {
    const reason = testResultsJson(results).results.find((r) => r.name === name)?.reason ?? '';
    assert.match(
      reason,
      /^allowed for web\/api\[Deployment\] pod api-5c6b9d-ok \(!quarantine\) -> web\/client\[Pod\]: /,
    );
    assert.match(
      reason,
      / \| denied for web\/api\[Deployment\] pod api-5c6b9d-q \(quarantine=true\) -> web\/client\[Pod\]: egress of /,
    );
  }
  assert.match(text, /^FAIL api reaches the client\n {5}expected allow, got some: allowed for /m);
  assert.match(text, /^2 passed, 2 failed$/m);
});

test('a rollout: two ReplicaSets with the same labels are one workload whose pods agree', () => {
  const labels = (hash: string) => `app: api, pod-template-hash: "${hash}"`;
  const text = `${COMMON}${replicaSet('api-1a', labels('1a'))}${replicaSet('api-2b', labels('2b'))}
${rsPod('api-1a', 'api-1a-x', '10.0.0.1', labels('1a'))}
${rsPod('api-2b', 'api-2b-x', '10.0.0.2', labels('2b'))}`;
  const snapshot = load(text);
  assert.deepEqual(
    snapshot.workloads.map((w) => w.id),
    ['web/client[Pod]', 'web/api[Deployment]'],
  );
  const connections = computeConnectivity(new Engine(snapshot));
  assert.ok(connections.length > 0 && connections.every((c) => c.portsAllPods === undefined));
});

test('a rollout whose new template changes a label a policy selects is a workload whose pods differ', () => {
  const old = 'app: api, pod-template-hash: "1a"';
  const next = 'app: api, pod-template-hash: "2b", tier: backend';
  const text = `${COMMON}${replicaSet('api-1a', old)}${replicaSet('api-2b', next)}
${rsPod('api-1a', 'api-1a-x', '10.0.0.1', old)}
${rsPod('api-2b', 'api-2b-x', '10.0.0.2', next)}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: client-ingress, namespace: web }
spec:
  podSelector: { matchLabels: { app: client } }
  ingress: [{ from: [{ podSelector: { matchLabels: { tier: backend } } }], ports: [{ port: 8080 }] }]`;
  const snapshot = load(text);
  const connections = computeConnectivity(new Engine(snapshot));
  const line = renderConnectivity({ snapshot, connections, options: {} }, 'text')
    .split('\n')
    .find((l) => l.startsWith('web/api[Deployment] => web/client'));
  assert.equal(line, 'web/api[Deployment] => web/client[Pod] : TCP 8080 (some pods)');
  const explanation = explainConnection(
    new Engine(snapshot),
    resolveEndpoint(snapshot, 'web/api'),
    resolveEndpoint(snapshot, 'web/client'),
    { protocol: 'TCP', port: 8080 },
  );
  assert.deepEqual(
    explanationJson(explanation).groups?.map((g) => [g.from?.pods, g.from?.labels, g.verdict]),
    [
      [['api-1a-x'], ['!tier', 'pod-template-hash=1a'], 'deny'],
      [['api-2b-x'], ['pod-template-hash=2b', 'tier=backend'], 'allow'],
    ],
  );
  // Naming one ReplicaSet asks about its pods only: one answer.
  const newer = explainConnection(
    new Engine(snapshot),
    resolveEndpoint(snapshot, 'web/api-2b'),
    resolveEndpoint(snapshot, 'web/client'),
    { protocol: 'TCP', port: 8080 },
  );
  assert.equal(newer.groups.length, 1);
  assert.match(
    renderExplanationText(newer),
    /^web\/api\[Deployment\] \(web\/api-2b\[ReplicaSet\]\) -> web\/client\[Pod\]\nVerdict on TCP 8080: ALLOWED$/m,
  );
});
