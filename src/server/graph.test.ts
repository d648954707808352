import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { computeConnectivity } from '../analysis/connectivity.ts';
import { runAudit } from '../compliance/audit.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot, loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { objectChanges } from './changes.ts';
import {
  buildGraph,
  type EntryNode,
  edgeChanges,
  entryPoints,
  type Graph,
  type WorkloadNode,
} from './graph.ts';
import { clinicState } from './test-support.ts';

const example = fileURLToPath(new URL('../../examples/hipaa-clinic/', import.meta.url));
const { config } = loadAuditConfig(`${example}phiwall.yaml`);

function graphOf(snapshot: Snapshot, generation = 1): Graph {
  const engine = new Engine(snapshot);
  const audit = runAudit(engine, config, { now: new Date('2026-11-27') });
  return buildGraph({
    snapshot,
    connections: computeConnectivity(engine),
    config,
    findings: audit.findings,
    generation,
    source: { kind: 'files', label: 'test' },
  });
}

const insecure = loadSnapshot([`${example}insecure`]);

test('the insecure clinic: workloads, PHI, exposure and entry points', () => {
  const graph = graphOf(insecure);
  const workloads = graph.nodes.filter((n): n is WorkloadNode => n.type === 'workload');
  assert.equal(workloads.length, 9);
  assert.equal(graph.summary.workloads, 9);
  assert.deepEqual(
    workloads.filter((w) => w.phi).map((w) => w.id),
    ['ehr/ehr-api[Deployment]', 'records/records-db[StatefulSet]'],
  );
  assert.equal(graph.summary.phi, 2);
  const ehr = workloads.find((w) => w.id === 'ehr/ehr-api[Deployment]') as WorkloadNode;
  assert.equal(ehr.exposed, true);
  assert.deepEqual(ehr.labels, { app: 'ehr-api' });
  assert.ok(ehr.findings > 0, 'the EHR API has open findings');
  assert.equal(workloads.find((w) => w.id.startsWith('kube-system/kube-flannel-ds'))?.hostNetwork, true);

  // 20-services.yaml: the Ingress ehr/ehr and the NodePort Service ehr/ehr-api lead to the EHR API; the
  // ClusterIP Service records/records-db is no way in.
  const entries = graph.nodes.filter((n): n is EntryNode => n.type === 'entry');
  assert.deepEqual(
    entries.map((e) => [e.id, e.label, e.targets]),
    [
      ['entry:Ingress/ehr/ehr', 'Ingress ehr/ehr', ['ehr/ehr-api[Deployment]']],
      ['entry:Service/ehr/ehr-api', 'Service ehr/ehr-api', ['ehr/ehr-api[Deployment]']],
    ],
  );
  const ingressEdge = graph.edges.find((e) => e.id === 'entry:Ingress/ehr/ehr->ehr/ehr-api[Deployment]');
  assert.deepEqual(ingressEdge && { ports: ingressEdge.ports, phi: ingressEdge.phi }, {
    ports: 'TCP 80',
    phi: true,
  });

  const namespaces = new Map(graph.namespaces.map((n) => [n.name, n]));
  assert.equal(namespaces.get('ehr')?.phi, true);
  assert.equal(namespaces.get('records')?.phi, true);
  assert.equal(namespaces.get('portal')?.phi, false);
  assert.equal(namespaces.get('ehr')?.labels['data-classification'], 'phi');
});

test('graph edges: unique ids, ends that are nodes, PHI marks and the summary', () => {
  const graph = graphOf(insecure);
  const ids = new Set(graph.nodes.map((n) => n.id));
  assert.equal(ids.size, graph.nodes.length);
  assert.equal(new Set(graph.edges.map((e) => e.id)).size, graph.edges.length);
  for (const edge of graph.edges) {
    assert.ok(ids.has(edge.source), edge.source);
    assert.ok(ids.has(edge.target), edge.target);
    assert.equal(edge.id, `${edge.source}->${edge.target}`);
  }
  const portal = graph.edges.find(
    (e) => e.id === 'portal/patient-portal[Deployment]->ehr/ehr-api[Deployment]',
  );
  assert.equal(portal?.phi, true);
  assert.deepEqual(portal?.protocols, ['TCP', 'UDP', 'SCTP']);
  const internet = graph.nodes.find((n) => n.id === 'external:0.0.0.0/0,::/0');
  assert.deepEqual(internet, {
    id: 'external:0.0.0.0/0,::/0',
    type: 'external',
    label: '0.0.0.0/0, ::/0',
    cidrs: ['0.0.0.0/0', '::/0'],
  });
  assert.equal(graph.summary.edges, graph.edges.length);
  assert.ok(graph.summary.failing > 0);
  assert.equal(graph.generation, 1);
});

test('the secure clinic: nothing exposed but through its entry points', () => {
  const graph = graphOf(loadSnapshot([`${example}secure`]));
  const exposed = graph.nodes.filter((n) => n.type === 'workload' && n.exposed).map((n) => n.id);
  // The EHR API behind its TLS Ingress, the ingress controller's LoadBalancer, and kube-system (no policies).
  assert.deepEqual(exposed, [
    'ehr/ehr-api[Deployment]',
    'ingress-nginx/ingress-nginx-controller[Deployment]',
    'kube-system/coredns[Deployment]',
    'kube-system/calico-node[DaemonSet]',
  ]);
  for (const id of exposed) {
    const byEntry = graph.edges.some((e) => e.target === id && e.source.startsWith('entry:'));
    const byExternal = graph.edges.some((e) => e.target === id && e.source.startsWith('external:'));
    assert.ok(byEntry || byExternal, id);
  }
});

const entryYaml = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: grpc, port: 9000}, {name: admin, port: 9001}]
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: shop}
spec:
  type: NodePort
  ports: [{port: 7000}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: shop}
spec:
  defaultBackend: {service: {name: api, port: {name: grpc}}}
  rules:
    - http:
        paths:
          - {path: /missing, pathType: Prefix, backend: {service: {name: nowhere, port: {number: 80}}}}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old, namespace: shop}
spec:
  backend: {serviceName: api, servicePort: 9001}
`;

test('entry points: LoadBalancer and NodePort Services, v1 and v1beta1 Ingresses, by selector and port', () => {
  const snapshot = buildSnapshot([{ path: 'entries.yaml', text: entryYaml }]);
  const entries = entryPoints(snapshot).map((e) => ({
    id: e.id,
    targets: Object.fromEntries([...e.targets].map(([id, ports]) => [id, [ports.TCP, ports.UDP]])),
  }));
  assert.deepEqual(entries, [
    { id: 'entry:Ingress/shop/api', targets: { 'shop/api[Deployment]': [[[9000, 9000]], []] } },
    { id: 'entry:Ingress/shop/old', targets: { 'shop/api[Deployment]': [[[9001, 9001]], []] } },
    { id: 'entry:Service/shop/web', targets: { 'shop/web[Deployment]': [[[80, 80]], [[53, 53]]] } },
    // No selector: its endpoints are managed by hand, and no workload is known to be behind it.
    { id: 'entry:Service/shop/manual', targets: {} },
  ]);
  const graph = graphOf(snapshot);
  const edge = graph.edges.find((e) => e.id === 'entry:Service/shop/web->shop/web[Deployment]');
  assert.deepEqual(edge && [edge.ports, edge.protocols], ['TCP 80 UDP 53', ['TCP', 'UDP']]);
});

test('edgeChanges and objectChanges: what an edit did', () => {
  const before = insecure;
  const after = buildSnapshot([
    ...['00-namespaces', '10-workloads', '20-services'].map((name) => {
      const path = `${example}insecure/${name}.yaml`;
      return { path, text: readFileSync(path, 'utf8') };
    }),
    {
      path: '30-policies.yaml',
      text: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: records-db, namespace: records}
spec:
  podSelector: {matchLabels: {app: records-db}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ehr}}
`,
    },
  ]);
  const objects = objectChanges(before, after);
  assert.deepEqual(
    objects.filter((o) => o.name === 'records-db' && o.kind === 'NetworkPolicy'),
    [{ type: 'MODIFIED', kind: 'NetworkPolicy', namespace: 'records', name: 'records-db' }],
  );
  assert.ok(objects.some((o) => o.type === 'DELETED' && o.name === 'records-backup'));
  assert.ok(!objects.some((o) => o.kind === 'Deployment'), 'workloads did not change');
  const changes = edgeChanges(graphOf(before), graphOf(after, 2));
  assert.ok(changes.removed.includes('portal/patient-portal[Deployment]->records/records-db[StatefulSet]'));
  assert.ok(!changes.removed.includes('ehr/ehr-api[Deployment]->records/records-db[StatefulSet]'));
  assert.deepEqual(objectChanges(before, loadSnapshot([`${example}insecure`])), []);
});

test('exposure: PHI reached from outside and from namespaces without PHI, and observed enforcement gaps', async () => {
  const graph = graphOf(insecure);
  // The EHR API is behind an Ingress; records-db admits every namespace, billing and analytics among them.
  const { edges, ...numbers } = graph.exposure;
  assert.deepEqual(numbers, {
    phiFromInternet: ['ehr/ehr-api[Deployment]'],
    phiFromNonPhiNamespaces: ['ehr/ehr-api[Deployment]', 'records/records-db[StatefulSet]'],
    enforcementGaps: [],
  });
  // The edges behind them. The Ingress, the NodePort Service and the internet (ehr has no policy) into
  // the EHR API; every workload of a namespace without PHI into both, but flannel runs on the host
  // network, which records-db's namespaceSelector does not match (docs/semantics.md, --host-network).
  const EHR = 'ehr/ehr-api[Deployment]';
  const DB = 'records/records-db[StatefulSet]';
  assert.deepEqual([...edges.internet].sort(), [
    `entry:Ingress/ehr/ehr->${EHR}`,
    `entry:Service/ehr/ehr-api->${EHR}`,
    `external:0.0.0.0/0,::/0->${EHR}`,
  ]);
  const outsidePhi = [
    'analytics/reports[Deployment]',
    'billing/invoicing[CronJob]',
    'ingress-nginx/ingress-nginx-controller[Deployment]',
    'kube-system/coredns[Deployment]',
    'monitoring/prometheus[Deployment]',
    'portal/patient-portal[Deployment]',
  ];
  assert.deepEqual(
    [...edges.namespaces].sort(),
    [
      ...outsidePhi.map((w) => `${w}->${EHR}`),
      `kube-system/kube-flannel-ds[DaemonSet]->${EHR}`,
      ...outsidePhi.map((w) => `${w}->${DB}`),
    ].sort(),
  );
  const withFlows = await clinicState('insecure', [`${example}flows.csv`]);
  assert.deepEqual(withFlows.graph().exposure.enforcementGaps, [
    'monitoring/prometheus[Deployment]->portal/patient-portal[Deployment]',
  ]);
});

test('status: whether policy is enforced, and what a partial input left out', () => {
  // Flannel alone enforces nothing (HIPAA-NP-002 fails); the secure clinic runs Calico.
  assert.deepEqual(graphOf(insecure).status, { enforcement: 'not-enforcing' });
  assert.deepEqual(graphOf(loadSnapshot([`${example}secure`])).status, { enforcement: 'enforcing' });
  const partial = buildSnapshot(
    [
      {
        path: 'cluster.yaml',
        text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\nspec: {containers: [{name: c, image: x}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: broken, namespace: shop}\nspec: {podSelector: 7}\n',
      },
    ],
    { skipInvalid: true },
  );
  const status = graphOf(partial).status;
  assert.equal(status.enforcement, 'not-assessable');
  assert.ok(status.partial, 'a --skip-invalid result is marked partial');
  assert.ok(
    status.partial.reasons.some((r) => /^cluster\.yaml:\d+:\d+: warning: spec\.podSelector/.test(r)),
    status.partial.reasons.join('\n'),
  );
  assert.ok(status.partial.reasons.some((r) => /left out 1 invalid input/.test(r)));
});
