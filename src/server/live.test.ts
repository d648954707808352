import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { FakeApiServer } from '../testing/fake-apiserver.ts';
import type { Graph } from './graph.ts';
import { startServe } from './index.ts';
import type { ChangeEvent } from './state.ts';
import { CONFIG_FILE, EXAMPLE, SseReader } from './test-support.ts';

function clinicObjects(): object[] {
  const dir = `${EXAMPLE}insecure`;
  return readdirSync(dir)
    .sort()
    .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJSON()))
    .filter((o) => o !== null);
}

test('serve --live: the graph of the cluster, and a change event when a policy changes in it', async (t) => {
  const cluster = await FakeApiServer.start({ objects: clinicObjects(), token: 's3cret', tls: true });
  t.after(() => cluster.close());
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-serve-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.kubeconfig({ context: 'clinic' }));
  const served = await startServe({ live: { kubeconfig }, config: CONFIG_FILE, port: 0 });
  t.after(() => served.close());
  const graph = (await (await fetch(new URL('/api/graph', served.url))).json()) as Graph;
  assert.equal(graph.source.kind, 'live');
  assert.match(graph.source.label, /^clinic \(https:\/\/127\.0\.0\.1:\d+\)$/);
  assert.equal(graph.summary.workloads, 9);
  assert.ok(
    graph.edges.some((e) => e.id === 'portal/patient-portal[Deployment]->records/records-db[StatefulSet]'),
  );

  const events = new SseReader(await fetch(new URL('/api/events', served.url)));
  t.after(() => events.cancel());
  cluster.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'records-db', namespace: 'records' },
    spec: {
      podSelector: { matchLabels: { app: 'records-db' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ehr' } } }] }],
    },
  });
  const change = await events.next(2000);
  assert.equal(change.event, 'change');
  const data = JSON.parse(change.data) as ChangeEvent;
  assert.deepEqual(data.objects, [
    { type: 'MODIFIED', kind: 'NetworkPolicy', namespace: 'records', name: 'records-db' },
  ]);
  assert.ok(data.removed.includes('portal/patient-portal[Deployment]->records/records-db[StatefulSet]'));
  assert.ok(!data.removed.includes('ehr/ehr-api[Deployment]->records/records-db[StatefulSet]'));
});
