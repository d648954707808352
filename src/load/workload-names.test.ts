import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot, WorkloadNames } from '../model/types.ts';
import { buildSnapshot } from './snapshot.ts';

function load(text: string, workloadNames?: WorkloadNames): Snapshot {
  return buildSnapshot([{ path: 'x.yaml', text }], workloadNames ? { workloadNames } : {});
}

const names = (snapshot: Snapshot) =>
  snapshot.workloads.map((w) => [w.id, w.pods.map((p) => p.name), w.namedBy ?? 'object']);

/** A pod in `shop`, owned by `owner` (`Kind/name`), with optional extra labels. */
function pod(name: string, owner: string | undefined, labels: Record<string, string> = {}): string {
  const [kind, ownerName] = owner?.split('/') ?? [];
  const refs = owner ? `\n  ownerReferences: [{kind: ${kind}, name: ${ownerName}, controller: true}]` : '';
  return `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: shop
  labels: ${JSON.stringify({ app: 'x', ...labels })}${refs}
`;
}

/** A workload object in `shop` with a pod template, optionally owned by `owner` (`Kind/name`). */
function controller(apiVersion: string, kind: string, name: string, owner?: string): string {
  const [ownerKind, ownerName] = owner?.split('/') ?? [];
  const refs = owner
    ? `\n  ownerReferences: [{kind: ${ownerKind}, name: ${ownerName}, controller: true}]`
    : '';
  const template =
    kind === 'CronJob'
      ? 'spec: {jobTemplate: {spec: {template: {metadata: {labels: {app: x}}}}}}'
      : 'spec: {template: {metadata: {labels: {app: x}}}}';
  return `---
apiVersion: ${apiVersion}
kind: ${kind}
metadata:
  name: ${name}
  namespace: shop${refs}
${template}
`;
}

const DEPLOYMENT = [
  controller('apps/v1', 'Deployment', 'api'),
  controller('apps/v1', 'ReplicaSet', 'api-5c6b9d', 'Deployment/api'),
  pod('api-5c6b9d-a', 'ReplicaSet/api-5c6b9d', { 'pod-template-hash': '5c6b9d' }),
  pod('api-5c6b9d-b', 'ReplicaSet/api-5c6b9d', { 'pod-template-hash': '5c6b9d' }),
].join('');

test('Deployment → ReplicaSet → Pod is named after the Deployment; --workload-names controller keeps the ReplicaSet', () => {
  assert.deepEqual(names(load(DEPLOYMENT)), [
    ['shop/api[Deployment]', ['api-5c6b9d-a', 'api-5c6b9d-b'], 'object'],
  ]);
  assert.deepEqual(
    load(DEPLOYMENT).pods.map((p) => p.controllers),
    [
      ['shop/api-5c6b9d[ReplicaSet]', 'shop/api[Deployment]'],
      ['shop/api-5c6b9d[ReplicaSet]', 'shop/api[Deployment]'],
    ],
  );
  assert.deepEqual(names(load(DEPLOYMENT, 'controller')), [
    ['shop/api-5c6b9d[ReplicaSet]', ['api-5c6b9d-a', 'api-5c6b9d-b'], 'object'],
  ]);
});

test('CronJob → Job → Pod is named after the CronJob', () => {
  const text = [
    controller('batch/v1', 'CronJob', 'invoices'),
    controller('batch/v1', 'Job', 'invoices-2839', 'CronJob/invoices'),
    pod('invoices-2839-q7', 'Job/invoices-2839'),
  ].join('');
  assert.deepEqual(names(load(text)), [['shop/invoices[CronJob]', ['invoices-2839-q7'], 'object']]);
  assert.deepEqual(names(load(text, 'controller')), [
    ['shop/invoices-2839[Job]', ['invoices-2839-q7'], 'object'],
  ]);
});

test('an operator’s CRD and an Argo Rollout name their workloads by the same rule, though phiwall skips them', () => {
  const text = [
    controller('databases.example.com/v1', 'PostgresCluster', 'records'),
    controller('apps/v1', 'StatefulSet', 'records-db', 'PostgresCluster/records'),
    pod('records-db-0', 'StatefulSet/records-db'),
    controller('argoproj.io/v1alpha1', 'Rollout', 'portal'),
    controller('apps/v1', 'ReplicaSet', 'portal-7f8d', 'Rollout/portal'),
    pod('portal-7f8d-a', 'ReplicaSet/portal-7f8d', { 'pod-template-hash': '7f8d' }),
  ].join('');
  const snapshot = load(text);
  assert.deepEqual(names(snapshot), [
    ['shop/records[PostgresCluster]', ['records-db-0'], 'object'],
    ['shop/portal[Rollout]', ['portal-7f8d-a'], 'object'],
  ]);
  // Still skipped for analysis, and still said so.
  assert.deepEqual(
    [...snapshot.skippedKinds.keys()],
    ['PostgresCluster (databases.example.com/v1)', 'Rollout (argoproj.io/v1alpha1)'],
  );
  assert.deepEqual(
    names(load(text, 'controller')).map(([id]) => id),
    ['shop/records-db[StatefulSet]', 'shop/portal-7f8d[ReplicaSet]'],
  );
});

test('missing owners: a reference names the workload; an absent ReplicaSet is read by its pod-template-hash', () => {
  const text = [
    // The ReplicaSet is held, its Deployment is not: the ReplicaSet's reference names it.
    controller('apps/v1', 'ReplicaSet', 'api-5c6b9d', 'Deployment/api'),
    pod('api-5c6b9d-a', 'ReplicaSet/api-5c6b9d', { 'pod-template-hash': '5c6b9d' }),
    // Neither is held (`kubectl get pods`): the Deployment is read from the ReplicaSet's name and hash.
    pod('web-77f9c-a', 'ReplicaSet/web-77f9c', { 'pod-template-hash': '77f9c' }),
    // No hash label to read it by: the ReplicaSet it names.
    pod('batch-8d7f-a', 'ReplicaSet/batch-8d7f'),
    // A Job whose CronJob is absent: the Job; one whose CronJob is named by a held Job: the CronJob.
    pod('once-a', 'Job/once'),
    controller('batch/v1', 'Job', 'nightly-1', 'CronJob/nightly'),
    pod('nightly-1-a', 'Job/nightly-1'),
  ].join('');
  assert.deepEqual(names(load(text)), [
    ['shop/api[Deployment]', ['api-5c6b9d-a'], 'owner-reference'],
    ['shop/web[Deployment]', ['web-77f9c-a'], 'pod-template-hash'],
    ['shop/batch-8d7f[ReplicaSet]', ['batch-8d7f-a'], 'owner-reference'],
    ['shop/once[Job]', ['once-a'], 'owner-reference'],
    ['shop/nightly[CronJob]', ['nightly-1-a'], 'owner-reference'],
  ]);
  assert.deepEqual(names(load(text, 'controller')), [
    ['shop/api-5c6b9d[ReplicaSet]', ['api-5c6b9d-a'], 'object'],
    ['shop/web-77f9c[ReplicaSet]', ['web-77f9c-a'], 'owner-reference'],
    ['shop/batch-8d7f[ReplicaSet]', ['batch-8d7f-a'], 'owner-reference'],
    ['shop/once[Job]', ['once-a'], 'owner-reference'],
    ['shop/nightly-1[Job]', ['nightly-1-a'], 'object'],
  ]);
});

test('a rollout’s two ReplicaSets are one workload; an ownerReference cycle ends the chain', () => {
  const text = [
    DEPLOYMENT,
    controller('apps/v1', 'ReplicaSet', 'api-9f8e7d', 'Deployment/api'),
    pod('api-9f8e7d-a', 'ReplicaSet/api-9f8e7d', { 'pod-template-hash': '9f8e7d' }),
    controller('example.com/v1', 'Loop', 'a', 'Loop/b'),
    controller('example.com/v1', 'Loop', 'b', 'Loop/a'),
    pod('looped', 'Loop/a'),
  ].join('');
  assert.deepEqual(names(load(text)), [
    ['shop/api[Deployment]', ['api-5c6b9d-a', 'api-5c6b9d-b', 'api-9f8e7d-a'], 'object'],
    ['shop/b[Loop]', ['looped'], 'object'],
  ]);
  assert.deepEqual(
    names(load(text, 'controller')).map(([id]) => id),
    ['shop/api-5c6b9d[ReplicaSet]', 'shop/api-9f8e7d[ReplicaSet]', 'shop/a[Loop]'],
  );
});

test('a ReplicaSet without pods whose Deployment is absent stands for the Deployment it names', () => {
  const text = controller('apps/v1', 'ReplicaSet', 'api-5c6b9d', 'Deployment/api');
  assert.deepEqual(names(load(text)), [['shop/api[Deployment]', ['api-5c6b9d'], 'owner-reference']]);
  assert.deepEqual(names(load(text, 'controller')), [
    ['shop/api-5c6b9d[ReplicaSet]', ['api-5c6b9d'], 'object'],
  ]);
});
