import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Engine } from '../engine/engine.ts';
import { formatPorts } from '../engine/ports.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { renderNamespaceBody } from '../report/generated-policies.ts';
import { yaml } from '../testing/yaml.ts';
import { computeConnectivity, peerName } from './connectivity.ts';
import type { FlowEdge, FlowPeer } from './flows.ts';
import {
  type GeneratedPolicy,
  type Generation,
  generatePolicies,
  mergePorts,
  proveGeneration,
  withGeneratedPolicies,
} from './generate.ts';

// records/db is PHI. shop/web is a Deployment seen through its ReplicaSet's pods (pod-template-hash);
// web-canary carries web's labels plus `track`; worker-old's labels are a subset of worker's.
const CLUSTER = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: records, labels: { data-classification: phi } }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: shop }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: records
    labels:
      app: db
      controller-revision-hash: db-5c9f
      statefulset.kubernetes.io/pod-name: db-0
      apps.kubernetes.io/pod-index: "0"
    ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1, controller: true }]
  spec: { containers: [{ name: db, image: postgres }] }
  status: { phase: Running, podIP: 10.0.0.10 }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: web-7d9f8c-aaaaa
    namespace: shop
    labels: { app: web, tier: front, pod-template-hash: 7d9f8c }
    ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f8c, uid: u2, controller: true }]
  spec: { containers: [{ name: web, image: web }] }
  status: { phase: Running, podIP: 10.0.1.10 }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: web-7d9f8c-bbbbb
    namespace: shop
    labels: { app: web, tier: front, pod-template-hash: 7d9f8c }
    ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f8c, uid: u2, controller: true }]
  spec: { containers: [{ name: web, image: web }] }
  status: { phase: Running, podIP: 10.0.1.11 }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: web-canary-5f5f-ccccc
    namespace: shop
    labels: { app: web, tier: front, track: canary, pod-template-hash: 5f5f }
    ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-canary-5f5f, uid: u3, controller: true }]
  spec: { containers: [{ name: web, image: web }] }
  status: { phase: Running, podIP: 10.0.1.12 }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: worker, namespace: shop }
  spec:
    selector: { matchLabels: { app: worker } }
    template:
      metadata: { labels: { app: worker, role: batch } }
      spec: { containers: [{ name: worker, image: worker }] }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: worker-old, namespace: shop, labels: { app: worker, role: batch } }
  spec: { containers: [{ name: worker, image: worker }] }
  status: { phase: Running, podIP: 10.0.1.20 }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: coredns-1
    namespace: kube-system
    labels: { k8s-app: kube-dns }
  spec: { containers: [{ name: coredns, image: coredns }] }
  status: { phase: Running, podIP: 10.0.9.2 }
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: allow-all, namespace: records }
  spec:
    podSelector: {}
    ingress: [{}]
`;

const WEB = 'shop/web[Deployment]';
const CANARY = 'shop/web-canary[Deployment]';
const DB = 'records/db[StatefulSet]';
const WORKER = 'shop/worker[Deployment]';
const WORKER_OLD = 'shop/worker-old[Pod]';
const DNS = 'kube-system/coredns-1[Pod]';
const PHI = new Set([DB]);

function snapshot(): Snapshot {
  return buildSnapshot([{ path: 'cluster.yaml', text: CLUSTER }]);
}

let line = 0;
function edge(
  src: string,
  dst: string,
  port: number,
  extra: Partial<Pick<FlowEdge, 'protocol' | 'observed' | 'count' | 'firstSeen' | 'lastSeen'>> = {},
): FlowEdge {
  const peer = (text: string): FlowPeer => (text.includes('/') ? { workload: text } : { ip: text });
  line++;
  return {
    src: peer(src),
    dst: peer(dst),
    protocol: 'TCP',
    port,
    observed: 'forwarded',
    count: 1,
    events: 1,
    policyAllows: true,
    at: { file: 'flows.csv', line },
    ...extra,
  };
}

const EDGES: FlowEdge[] = [
  edge(WEB, DB, 5432, { count: 10, firstSeen: '2026-11-27T10:00:00Z', lastSeen: '2026-11-27T11:00:00Z' }),
  edge(WEB, DB, 5434),
  edge(WEB, DB, 5433),
  edge(WEB, DB, 9000, { protocol: 'UDP' }),
  edge(WEB, DNS, 53, { protocol: 'UDP', count: 7 }),
  edge('203.0.113.9', WEB, 443),
  edge('198.51.100.2', WEB, 443, { count: 3 }),
  edge(WEB, '2001:db8::1', 443),
  edge(CANARY, DB, 5432, { observed: 'dropped' }),
];

function policy(generation: Generation, namespace: string, name: string): GeneratedPolicy {
  const found = generation.namespaces
    .find((ns) => ns.namespace === namespace)
    ?.policies.find((p) => p.name === name);
  assert.ok(found, `no policy ${namespace}/${name}`);
  return found;
}

/** Renders, loads back and puts the generated policies in place of the input's. */
function applied(input: Snapshot, generation: Generation, keepExisting = false): Snapshot {
  const loaded = buildSnapshot(
    generation.namespaces.map((ns) => ({ path: `${ns.namespace}.yaml`, text: renderNamespaceBody(ns) })),
  );
  assert.deepEqual(loaded.warnings, []);
  const namespaces = new Set(generation.namespaces.map((ns) => ns.namespace));
  return withGeneratedPolicies(input, loaded.policies, namespaces, keepExisting);
}

describe('generating policies from observed edges', () => {
  const input = snapshot();
  const generation = generatePolicies(new Engine(input), EDGES, {
    excludedNamespaces: ['kube-system'],
  });

  test('a default-deny and an allow-dns in every namespace but the excluded ones', () => {
    assert.deepEqual(
      generation.namespaces.map((ns) => ns.namespace),
      ['records', 'shop'],
    );
    for (const ns of generation.namespaces) {
      const [deny, dns] = ns.policies;
      assert.equal(deny?.name, 'default-deny');
      assert.deepEqual(deny?.podSelector, { matchLabels: {}, matchExpressions: [] });
      assert.deepEqual(deny?.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual([deny?.ingress, deny?.egress], [[], []]);
      assert.equal(dns?.name, 'allow-dns');
      assert.deepEqual(dns?.policyTypes, ['Egress']);
      assert.deepEqual(dns?.egress[0]?.peers, [
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
            matchExpressions: [],
          },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: [] },
        },
      ]);
      assert.deepEqual(dns?.egress[0]?.ports, [
        { protocol: 'TCP', port: 53 },
        { protocol: 'UDP', port: 53 },
      ]);
    }
    assert.equal(generation.dnsEdges, 1);
    assert.match(
      policy(generation, 'shop', 'allow-dns').comments.join('\n'),
      /DNS queries from shop\/web\[Deployment\]/,
    );
    assert.deepEqual(policy(generation, 'records', 'default-deny').egress, []);
    assert.deepEqual(generation.namespaces.find((ns) => ns.namespace === 'records')?.replaces, ['allow-all']);
  });

  test('workloads are selected by their stable labels, never per-pod or per-revision ones', () => {
    const db = policy(generation, 'records', 'db-observed');
    assert.deepEqual(db.podSelector, { matchLabels: { app: 'db' }, matchExpressions: [] });
    // The ReplicaSet's pods stand for their Deployment, named without the hash.
    const web = policy(generation, 'shop', 'web-observed');
    assert.equal(web.workload, 'shop/web[Deployment]');
    assert.deepEqual(web.podSelector.matchLabels, { app: 'web', tier: 'front' });
    // web-canary's pods carry web's labels: a label only they have tells them apart.
    assert.deepEqual(web.podSelector.matchExpressions, [
      { key: 'track', operator: 'DoesNotExist', values: [] },
    ]);
    assert.doesNotMatch(web.comments.join('\n'), /WARNING/);
  });

  test('rules: one per peer, ports merged into ranges and sorted, peers sorted, commented', () => {
    const web = policy(generation, 'shop', 'web-observed');
    assert.deepEqual(web.policyTypes, ['Ingress', 'Egress']);
    // DNS is left to allow-dns; the database first (workloads before addresses), then the IPv6 host.
    assert.deepEqual(
      web.egress.map((r) => r.peers),
      [
        [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': 'records' },
              matchExpressions: [],
            },
            podSelector: { matchLabels: { app: 'db' }, matchExpressions: [] },
          },
        ],
        [{ ipBlock: '2001:db8::1/128' }],
      ],
    );
    assert.deepEqual(web.egress[0]?.ports, [
      { protocol: 'TCP', port: 5432, endPort: 5434 },
      { protocol: 'UDP', port: 9000 },
    ]);
    assert.deepEqual(web.egress[0]?.comments, [
      'to records/db[StatefulSet]: 13 connection(s): TCP 5432 ×10, TCP 5433 ×1, TCP 5434 ×1, UDP 9000 ×1; seen 2026-11-27T10:00:00Z … 2026-11-27T11:00:00Z',
    ]);
    // The internet clients are one rule, one block per address (too few, and shop/web no entry point).
    assert.deepEqual(
      web.ingress.map((r) => r.peers),
      [[{ ipBlock: '198.51.100.2/32' }, { ipBlock: '203.0.113.9/32' }]],
    );
    const db = policy(generation, 'records', 'db-observed');
    assert.deepEqual(db.ingress[0]?.peers, [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' }, matchExpressions: [] },
        podSelector: {
          matchLabels: { app: 'web', tier: 'front' },
          matchExpressions: [{ key: 'track', operator: 'DoesNotExist', values: [] }],
        },
      },
    ]);
    assert.deepEqual(db.egress, []);
  });

  test('dropped flows are left out unless asked for, and workloads without traffic are isolated', () => {
    assert.equal(generation.leftOut.dropped, 1);
    assert.ok(!generation.edges.some((e) => e.observed === 'dropped'));
    // Units: web-canary's ReplicaSet stands for its Deployment.
    assert.deepEqual(generation.isolated, ['shop/web-canary[Deployment]', WORKER_OLD, WORKER]);
    const names = (g: Generation, ns: string) =>
      g.namespaces.find((n) => n.namespace === ns)?.policies.map((p) => p.name);
    assert.deepEqual(names(generation, 'shop'), ['default-deny', 'allow-dns', 'web-observed']);

    const withDrops = generatePolicies(new Engine(input), EDGES, {
      excludedNamespaces: ['kube-system'],
      includeDropped: true,
    });
    assert.deepEqual(names(withDrops, 'shop'), [
      'default-deny',
      'allow-dns',
      'web-canary-observed',
      'web-observed',
    ]);
    assert.match(policy(withDrops, 'records', 'db-observed').ingress[0]?.comments[0] ?? '', /\(1 dropped\)/);
  });

  test('a selector that cannot tell a workload from another is flagged, in the policy and as a warning', () => {
    const twins = generatePolicies(new Engine(input), [edge(WORKER, DB, 5432)], {
      excludedNamespaces: ['kube-system'],
    });
    const worker = policy(twins, 'shop', 'worker-observed');
    assert.deepEqual(worker.podSelector, {
      matchLabels: { app: 'worker', role: 'batch' },
      matchExpressions: [],
    });
    assert.match(
      worker.comments.join('\n'),
      /WARNING: no label tells its pods from those of shop\/worker-old\[Pod\]/,
    );
    assert.match(
      twins.warnings.join('\n'),
      /shop\/worker\[Deployment\]: its selector \(app=worker,role=batch\) also selects the pods of shop\/worker-old\[Pod\]/,
    );
    assert.match(
      policy(twins, 'records', 'db-observed').ingress[0]?.comments.join('\n') ?? '',
      /WARNING: this peer's selector also selects/,
    );
    // And the proof sees what the selector lets through.
    const proof = proveGeneration(new Engine(applied(input, twins)), twins.edges, PHI, twins.unitOf);
    assert.equal(proof.ok, false);
    assert.deepEqual(
      proof.unobserved.map((c) => `${c.src} -> ${c.dst} ${formatPorts(c.ports)}`),
      [`${WORKER_OLD} -> ${DB} TCP 5432`],
    );
  });

  test('excluding no namespace generates cluster DNS its own ingress from every namespace', () => {
    const all = generatePolicies(new Engine(input), EDGES, { excludedNamespaces: [] });
    const dns = policy(all, 'kube-system', 'dns-from-cluster');
    assert.deepEqual(dns.podSelector.matchLabels, { 'k8s-app': 'kube-dns' });
    assert.deepEqual(dns.ingress[0]?.peers, [
      { namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
    ]);
    const proof = proveGeneration(new Engine(applied(input, all)), all.edges, PHI, all.unitOf);
    assert.ok(proof.ok, JSON.stringify(proof));
  });

  test('the rendered YAML loads back without a warning, with every comment in place', () => {
    for (const ns of generation.namespaces) {
      const text = renderNamespaceBody(ns);
      const loaded = buildSnapshot([{ path: `${ns.namespace}.yaml`, text }]);
      assert.deepEqual(loaded.warnings, []);
      assert.equal(loaded.policies.length, ns.policies.length);
      const documents = parseAllDocuments(text);
      assert.ok(Array.isArray(documents));
      assert.deepEqual(
        documents.map((d) => d.errors),
        ns.policies.map(() => []),
      );
    }
    const shop = renderNamespaceBody(generation.namespaces[1] as Generation['namespaces'][number]);
    assert.match(
      shop,
      /# from 2 addresses \(internet\): 4 connection\(s\): TCP 443 ×4\n {4}- from:\n {8}- ipBlock:\n {12}cidr: 198\.51\.100\.2\/32\n {8}- ipBlock:\n {12}cidr: 203\.0\.113\.9\/32\n/,
    );
    assert.match(shop, /cidr: "2001:db8::1\/128"/);
    assert.match(shop, /- \{protocol: TCP, port: 5432, endPort: 5434\}\n {8}- \{protocol: UDP, port: 9000\}/);
  });
});

describe('the round trip: flows → policies → the engine allows exactly the observed edges into PHI', () => {
  const input = snapshot();
  const generation = generatePolicies(new Engine(input), EDGES, { excludedNamespaces: ['kube-system'] });
  const engine = new Engine(applied(input, generation));

  test('every observed edge is allowed, and nothing unobserved reaches PHI', () => {
    const proof = proveGeneration(engine, generation.edges, PHI, generation.unitOf);
    assert.deepEqual(proof.notAllowed, []);
    assert.deepEqual(proof.unobserved, []);
    assert.equal(proof.ok, true);
    assert.equal(proof.edges, 8);
    assert.equal(proof.phiWorkloads, 1);
  });

  test('the connections into PHI are exactly the observed ones, ports included', () => {
    const into = computeConnectivity(engine)
      .filter((c) => 'workload' in c.dst && PHI.has(c.dst.workload))
      .map((c) => `${peerName(c.src)} -> ${peerName(c.dst)} ${formatPorts(c.ports)}`);
    // The input let everyone into records; now only web does, on what it used (the canary was dropped).
    assert.deepEqual(into, [`${WEB} -> ${DB} TCP 5432-5434 UDP 9000`]);
    const before = computeConnectivity(new Engine(input)).filter(
      (c) => 'workload' in c.dst && PHI.has(c.dst.workload),
    );
    assert.ok(before.length > 3);
  });

  test('kept next to an input policy that lets everyone in, the proof fails and says why', () => {
    const kept = new Engine(applied(input, generation, true));
    const proof = proveGeneration(kept, generation.edges, PHI, generation.unitOf);
    assert.equal(proof.ok, false);
    assert.deepEqual(proof.notAllowed, []);
    // shop's pods are held back by shop's default-deny; kube-system, left as it is, and the internet are not.
    assert.deepEqual(
      proof.unobserved.map((c) => `${c.src} -> ${c.dst} ${formatPorts(c.ports)}`),
      [`${DNS} -> ${DB} all ports`, `0.0.0.0/0,::/0 -> ${DB} all ports`],
    );
  });

  test('kept next to the input, a generated policy replaces the existing one of the same name', () => {
    const same = buildSnapshot([
      {
        path: 'records.yaml',
        text: yaml`
          apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: { name: allow-all, namespace: records }
          spec: { podSelector: {}, policyTypes: [Ingress] }
        `,
      },
    ]);
    const merged = withGeneratedPolicies(input, same.policies, new Set(['records']), true);
    assert.deepEqual(
      merged.policies.map((p) => `${p.namespace}/${p.name} ${p.ingress.length}`),
      ['records/allow-all 0'],
    );
    assert.equal(withGeneratedPolicies(input, [], new Set(['records'])).policies.length, 0);
    assert.equal(withGeneratedPolicies(input, [], new Set(['shop'])).policies.length, 1);
  });

  test('observed edges the policies do not allow are listed with what is allowed', () => {
    // Proved against the input with its allow-all turned into deny-all: nothing reaches records.
    const denying = buildSnapshot([
      { path: 'cluster.yaml', text: CLUSTER.replace('ingress: [{}]', 'ingress: []') },
    ]);
    const proof = proveGeneration(new Engine(denying), generation.edges, PHI, generation.unitOf);
    assert.deepEqual(
      proof.notAllowed.map(
        ({ edge, allowed }) => `${edge.protocol} ${edge.port}: ${formatPorts(allowed) || 'nothing'}`,
      ),
      ['TCP 5432: nothing', 'TCP 5434: nothing', 'TCP 5433: nothing', 'UDP 9000: nothing'],
    );
  });

  test('an external address observed on one port and allowed on more is reported with the extra ports', () => {
    const ip = edge('203.0.113.50', DB, 5432);
    const wide = generatePolicies(new Engine(input), [ip], { excludedNamespaces: ['kube-system'] });
    const proofOk = proveGeneration(new Engine(applied(input, wide)), wide.edges, PHI, wide.unitOf);
    assert.ok(proofOk.ok, JSON.stringify(proofOk.unobserved));
    // Proving against fewer observed ports than were generated: 5433 becomes unobserved.
    const more = generatePolicies(new Engine(input), [ip, edge('203.0.113.50', DB, 5433)], {
      excludedNamespaces: ['kube-system'],
    });
    const proof = proveGeneration(new Engine(applied(input, more)), [ip], PHI, more.unitOf);
    assert.deepEqual(
      proof.unobserved.map((c) => `${c.src} -> ${c.dst} ${formatPorts(c.ports)}`),
      [`203.0.113.50 -> ${DB} TCP 5433`],
    );
  });
});

test('mergePorts sorts by protocol, then port, and merges consecutive ports', () => {
  assert.deepEqual(
    mergePorts([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 8081 },
      { protocol: 'TCP', port: 80 },
      { protocol: 'TCP', port: 8080 },
      { protocol: 'TCP', port: 8082 },
      { protocol: 'TCP', port: 80 },
      { protocol: 'SCTP', port: 9 },
      { protocol: 'TCP', port: 8084 },
    ]),
    [
      { protocol: 'TCP', port: 80 },
      { protocol: 'TCP', port: 8080, endPort: 8082 },
      { protocol: 'TCP', port: 8084 },
      { protocol: 'UDP', port: 53 },
      { protocol: 'SCTP', port: 9 },
    ],
  );
});

describe('peers NetworkPolicy cannot select by label', () => {
  const HOST = yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: db-0
      namespace: records
      labels: { app: db }
      ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1, controller: true }]
    spec: { containers: [{ name: db, image: postgres }] }
    status: { phase: Running, podIP: 10.0.0.10 }
    ---
    apiVersion: v1
    kind: Pod
    metadata: { name: agent-x1, namespace: ops, labels: { app: agent } }
    spec: { hostNetwork: true, containers: [{ name: agent, image: agent }] }
    status: { phase: Running, podIP: 192.168.1.5 }
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: { name: probe, namespace: ops }
    spec:
      selector: { matchLabels: { app: probe } }
      template:
        metadata: { labels: { app: probe } }
        spec: { hostNetwork: true, containers: [{ name: probe, image: probe }] }
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: backup-28391234-abcde
      namespace: records
      labels: { app: backup, job-name: backup-28391234, batch.kubernetes.io/job-name: backup-28391234 }
      ownerReferences: [{ apiVersion: batch/v1, kind: Job, name: backup-28391234, uid: u9, controller: true }]
    spec: { containers: [{ name: backup, image: backup }] }
    status: { phase: Running, podIP: 10.0.0.30 }
  `;
  const input = buildSnapshot([{ path: 'host.yaml', text: HOST }]);
  const edges = [
    edge('ops/agent-x1[Pod]', DB, 9187),
    edge('ops/probe[DaemonSet]', DB, 5432),
    edge('records/backup-28391234[Job]', DB, 5432),
  ];
  const generation = generatePolicies(new Engine(input), edges);

  test('a hostNetwork peer by its node address; without one, a warning and no rule', () => {
    const db = policy(generation, 'records', 'db-observed');
    assert.deepEqual(
      db.ingress.map((r) => r.peers),
      [
        [{ ipBlock: '192.168.1.5/32' }],
        [
          {
            podSelector: { matchLabels: { app: 'backup' }, matchExpressions: [] },
          },
        ],
      ],
    );
    assert.match(db.ingress[0]?.comments.join('\n') ?? '', /ops\/agent-x1\[Pod\] is hostNetwork/);
    assert.match(
      generation.warnings.join('\n'),
      /ops\/probe\[DaemonSet\] cannot be written as a NetworkPolicy peer/,
    );
    // hostNetwork workloads get no policy of their own: NetworkPolicy does not apply to them.
    const ops = generation.namespaces.find((ns) => ns.namespace === 'ops');
    assert.deepEqual(
      ops?.policies.map((p) => p.name),
      ['default-deny', 'allow-dns'],
    );
    assert.match(ops?.notes.join('\n') ?? '', /ops\/agent-x1\[Pod\] is hostNetwork/);
    // The proof names the flow that could not be allowed.
    const proof = proveGeneration(
      new Engine(applied(input, generation)),
      generation.edges,
      PHI,
      generation.unitOf,
    );
    assert.deepEqual(
      proof.notAllowed.map(({ edge }) => peerName({ workload: (edge.src as { workload: string }).workload })),
      ['ops/probe[DaemonSet]'],
    );
  });

  test('for Cilium, a hostNetwork peer is its node: the host and remote-node entities, address or not', () => {
    const cilium = generatePolicies(new Engine(input), edges, { cilium: true });
    const db = policy(cilium, 'records', 'db-observed');
    // Both hostNetwork workloads are the nodes' identity to Cilium: one rule names them, the ports merged.
    assert.deepEqual(
      db.ingress.map((r) => [r.peers, r.ports.map((p) => `${p.protocol} ${p.port}`).join(', ')]),
      [
        [[{ podSelector: { matchLabels: { app: 'backup' }, matchExpressions: [] } }], 'TCP 5432'],
        [[{ entity: 'host' }, { entity: 'remote-node' }], 'TCP 5432, TCP 9187'],
      ],
    );
    assert.deepEqual(cilium.warnings, []);
  });

  test("a CronJob's Jobs are one workload, named after the CronJob, selected without the job labels", () => {
    const backup = policy(generation, 'records', 'backup-observed');
    assert.equal(backup.workload, 'records/backup[CronJob]');
    assert.deepEqual(backup.podSelector, { matchLabels: { app: 'backup' }, matchExpressions: [] });
  });
});
