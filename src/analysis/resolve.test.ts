import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { type Resolved, ResolveError, resolveEndpoint, resolveWorkloadId } from './resolve.ts';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: cache, namespace: shop }
spec:
  template:
    metadata: { labels: { app: cache } }
    spec: { containers: [{ name: c }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: shop }
spec:
  template:
    metadata: { labels: { app: cache-sts } }
    spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f-x2k4q
  namespace: shop
  labels: { app: api }
  ownerReferences: [{ kind: ReplicaSet, name: api-7d9f, controller: true }]
spec: { containers: [{ name: c }] }
status: { podIP: 10.1.0.7 }
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f-m8zzt
  namespace: shop
  labels: { app: api }
  ownerReferences: [{ kind: ReplicaSet, name: api-7d9f, controller: true }]
spec: { containers: [{ name: c }] }
status: { podIPs: [{ ip: 10.1.0.8 }, { ip: "fd00:0:0::8" }] }
---
apiVersion: v1
kind: Pod
metadata: { name: tools }
spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Namespace
metadata: { name: empty }
`;

function snapshot(): Snapshot {
  return buildSnapshot([{ path: 'cluster.yaml', text: MANIFESTS }]);
}

function workloadOf(resolved: Resolved): string {
  assert.equal(resolved.kind, 'workload', `expected a workload, got ${JSON.stringify(resolved)}`);
  return resolved.kind === 'workload' ? resolved.workload.id : '';
}

function resolveFails(text: string, pattern: RegExp): void {
  assert.throws(
    () => resolveEndpoint(snapshot(), text),
    (error: unknown) => error instanceof ResolveError && pattern.test(error.message),
  );
}

test('ns/name resolves to the only workload of that name', () => {
  const resolved = resolveEndpoint(snapshot(), 'shop/web');
  assert.equal(workloadOf(resolved), 'shop/web[Deployment]');
  assert.equal(resolved.kind === 'workload' && resolved.pod.workload, 'shop/web[Deployment]');
});

test('a name without a namespace means the default namespace', () => {
  assert.equal(workloadOf(resolveEndpoint(snapshot(), 'tools')), 'default/tools[Pod]');
});

test('ns/name[Kind] picks one of several workloads that share a name', () => {
  assert.equal(workloadOf(resolveEndpoint(snapshot(), 'shop/cache[StatefulSet]')), 'shop/cache[StatefulSet]');
  assert.equal(workloadOf(resolveEndpoint(snapshot(), 'shop/cache[Deployment]')), 'shop/cache[Deployment]');
});

test('an ambiguous ns/name is an error that lists the candidates and asks for the kind', () => {
  resolveFails('shop/cache', /ambiguous.*shop\/cache\[Deployment\].*shop\/cache\[StatefulSet\].*\[Kind\]/);
});

test('a pod name resolves to that pod of its owning workload', () => {
  const resolved = resolveEndpoint(snapshot(), 'shop/api-7d9f-m8zzt');
  assert.equal(workloadOf(resolved), 'shop/api-7d9f[ReplicaSet]');
  // The named pod, not the workload's first one: its IPs and ports are what the user asked about.
  assert.equal(resolved.kind === 'workload' && resolved.pod.name, 'api-7d9f-m8zzt');
});

test('a pod name with a [Kind] is not taken as a pod name', () => {
  resolveFails('shop/api-7d9f-x2k4q[Pod]', /unknown workload/);
});

test('an IP address of a pod resolves to that pod', () => {
  const resolved = resolveEndpoint(snapshot(), '10.1.0.8');
  assert.equal(workloadOf(resolved), 'shop/api-7d9f[ReplicaSet]');
  assert.equal(resolved.kind === 'workload' && resolved.pod.name, 'api-7d9f-m8zzt');
});

test('an IPv6 pod address matches however it is written', () => {
  for (const text of ['fd00::8', 'fd00:0:0::8', 'FD00:0000::0008']) {
    const resolved = resolveEndpoint(snapshot(), text);
    assert.equal(resolved.kind === 'workload' && resolved.pod.name, 'api-7d9f-m8zzt', text);
  }
});

test('an IP address of no pod is an external address', () => {
  assert.deepEqual(resolveEndpoint(snapshot(), '203.0.113.9'), {
    kind: 'ip',
    ip: '203.0.113.9',
    text: '203.0.113.9',
  });
  assert.equal(resolveEndpoint(snapshot(), '2001:db8::1').kind, 'ip');
});

test('an unknown workload names the workloads of its namespace as a hint', () => {
  resolveFails('shop/wbe', /^unknown workload "shop\/wbe"; workloads in shop: .*shop\/web\[Deployment\]/);
});

test('an unknown workload in a namespace without workloads says so', () => {
  resolveFails('empty/web', /namespace "empty" has no workloads/);
  resolveFails('nowhere/web', /namespace "nowhere" has no workloads/);
});

test('the hint lists at most eight workloads', () => {
  const many = Array.from(
    { length: 10 },
    (_, i) =>
      `apiVersion: v1\nkind: Pod\nmetadata: { name: p${i}, namespace: big }\nspec: { containers: [] }`,
  ).join('\n---\n');
  const big = buildSnapshot([{ path: 'big.yaml', text: many }]);
  assert.throws(
    () => resolveEndpoint(big, 'big/nope'),
    (error: unknown) =>
      error instanceof ResolveError &&
      error.message.endsWith(', …') &&
      (error.message.match(/\[Pod\]/g) ?? []).length === 8,
  );
});

test('text that is neither a workload nor an address is rejected with the accepted forms', () => {
  for (const text of ['a/b/c', 'shop/web[', 'shop/web[Deploy-ment]', '']) {
    resolveFails(text, /is not a workload \(ns\/name or ns\/name\[Kind\]\) or an IP address/);
  }
});

test('resolveWorkloadId refuses an external address and returns ids for pod IPs', () => {
  assert.equal(resolveWorkloadId(snapshot(), '10.1.0.7'), 'shop/api-7d9f[ReplicaSet]');
  assert.throws(() => resolveWorkloadId(snapshot(), '203.0.113.9'), /is an address, not a workload/);
});

/** A Deployment in a rollout: two ReplicaSets, each with its pods, all in the input. */
const replicaSets = (hashes: string[]) =>
  hashes
    .map(
      (hash, i) => `
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-${hash}
  namespace: web
  ownerReferences: [{ kind: Deployment, name: api, controller: true }]
spec: { template: { metadata: { labels: { app: api, pod-template-hash: "${hash}" } } } }
---
apiVersion: v1
kind: Pod
metadata:
  name: api-${hash}-a
  namespace: web
  labels: { app: api, pod-template-hash: "${hash}" }
  ownerReferences: [{ kind: ReplicaSet, name: api-${hash}, controller: true }]
status: { podIP: 10.2.0.${i + 1} }
---
apiVersion: v1
kind: Pod
metadata:
  name: api-${hash}-b
  namespace: web
  labels: { app: api, pod-template-hash: "${hash}" }
  ownerReferences: [{ kind: ReplicaSet, name: api-${hash}, controller: true }]
status: { podIP: 10.2.1.${i + 1} }`,
    )
    .join('');
const deployment = (hashes: string[]) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: web }
spec: { template: { metadata: { labels: { app: api } } } }
${replicaSets(hashes)}`;
const DEPLOYMENT = deployment(['5c6b9d', '9f8e7d']);

function resolvedPods(resolved: Resolved): [string, string[], string | undefined] {
  assert.equal(resolved.kind, 'workload');
  if (resolved.kind !== 'workload') return ['', [], undefined];
  return [resolved.workload.id, resolved.pods.map((p) => p.name), resolved.part];
}

test('every name of a Deployment’s chain resolves: the Deployment, a ReplicaSet (its pods only), a pod, an IP', () => {
  const rollout = buildSnapshot([{ path: 'cluster.yaml', text: DEPLOYMENT }]);
  const all = ['api-5c6b9d-a', 'api-5c6b9d-b', 'api-9f8e7d-a', 'api-9f8e7d-b'];
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api')), [
    'web/api[Deployment]',
    all,
    undefined,
  ]);
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api[Deployment]')), [
    'web/api[Deployment]',
    all,
    undefined,
  ]);
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api-9f8e7d')), [
    'web/api[Deployment]',
    ['api-9f8e7d-a', 'api-9f8e7d-b'],
    'web/api-9f8e7d[ReplicaSet]',
  ]);
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api-5c6b9d[ReplicaSet]')), [
    'web/api[Deployment]',
    ['api-5c6b9d-a', 'api-5c6b9d-b'],
    'web/api-5c6b9d[ReplicaSet]',
  ]);
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api-5c6b9d-b')), [
    'web/api[Deployment]',
    ['api-5c6b9d-b'],
    'web/api-5c6b9d-b[Pod]',
  ]);
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, '10.2.0.2')), [
    'web/api[Deployment]',
    ['api-9f8e7d-a'],
    'web/api-9f8e7d-a[Pod]',
  ]);
  assert.throws(
    () => resolveEndpoint(rollout, 'web/api[StatefulSet]'),
    (error: unknown) =>
      error instanceof ResolveError && /unknown workload.*web\/api\[Deployment\]/.test(error.message),
  );
});

test('under --workload-names controller, a ReplicaSet is the workload and a Deployment in a rollout is ambiguous', () => {
  const rollout = buildSnapshot([{ path: 'cluster.yaml', text: DEPLOYMENT }], {
    workloadNames: 'controller',
  });
  assert.deepEqual(resolvedPods(resolveEndpoint(rollout, 'web/api-9f8e7d')), [
    'web/api-9f8e7d[ReplicaSet]',
    ['api-9f8e7d-a', 'api-9f8e7d-b'],
    undefined,
  ]);
  assert.throws(
    () => resolveEndpoint(rollout, 'web/api'),
    (error: unknown) =>
      error instanceof ResolveError &&
      error.message ===
        '"web/api" (web/api[Deployment]) spans the workloads web/api-5c6b9d[ReplicaSet], web/api-9f8e7d[ReplicaSet]: name one of them',
  );
  // One ReplicaSet left: the Deployment's name stands for it.
  const one = buildSnapshot([{ path: 'cluster.yaml', text: deployment(['5c6b9d']) }], {
    workloadNames: 'controller',
  });
  assert.deepEqual(resolvedPods(resolveEndpoint(one, 'web/api')), [
    'web/api-5c6b9d[ReplicaSet]',
    ['api-5c6b9d-a', 'api-5c6b9d-b'],
    undefined,
  ]);
});

test('a name that is both a workload and a controller of another is ambiguous, listing both', () => {
  const text = `${DEPLOYMENT}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: api-9f8e7d, namespace: web }
spec: { template: { metadata: { labels: { app: other } } } }`;
  resolveFailsIn(
    buildSnapshot([{ path: 'cluster.yaml', text }]),
    'web/api-9f8e7d',
    /ambiguous: web\/api-9f8e7d\[StatefulSet\], web\/api-9f8e7d\[ReplicaSet\]; add the \[Kind\]/,
  );
});

function resolveFailsIn(snapshot: Snapshot, text: string, pattern: RegExp) {
  assert.throws(
    () => resolveEndpoint(snapshot, text),
    (error: unknown) => error instanceof ResolveError && pattern.test(error.message),
  );
}
