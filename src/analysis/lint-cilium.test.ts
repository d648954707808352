import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot, loadSnapshot } from '../load/snapshot.ts';
import { yaml } from '../testing/yaml.ts';
import { type LintProblem, lintSnapshot } from './lint.ts';
import { dnsPatternAllows } from './named-peers.ts';

/** A clinic: the records API and its database in phi, a portal in web, one node. */
const APPS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: phi }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: web }
  ---
  apiVersion: v1
  kind: Node
  metadata: { name: n1, labels: { role: worker } }
  status: { addresses: [{ type: InternalIP, address: 192.168.0.1 }] }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: records, namespace: phi, labels: { app: records } }
  spec: { containers: [{ name: api, image: api, ports: [{ name: http, containerPort: 8080 }] }] }
  status: { podIP: 10.0.0.2 }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: db, namespace: phi, labels: { app: db } }
  spec: { containers: [{ name: db, image: db, ports: [{ name: pg, containerPort: 5432 }] }] }
  status: { podIP: 10.0.0.3 }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: portal, namespace: web, labels: { app: portal } }
  spec: { containers: [{ name: web, image: web }] }
  status: { podIP: 10.0.1.1 }
`;

const CILIUM = { ipBlockMatchesPods: false, hostNetwork: 'node', ciliumIdentity: true } as const;

function lint(policies: string): LintProblem[] {
  const snapshot = buildSnapshot([
    { path: 'apps.yaml', text: APPS },
    { path: 'cilium.yaml', text: policies },
  ]);
  return lintSnapshot(snapshot, new Engine(snapshot, CILIUM)).problems.filter(
    (p) => p.file === 'cilium.yaml',
  );
}

const rules = (problems: LintProblem[]) =>
  problems.map((p) => `${p.rule} ${p.severity} cilium.yaml:${p.line}`);

test('PW-LINT-030: a CNP whose endpointSelector matches no pod (a typo), not one in its own namespace', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: records, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: record } }
      ingress: [{ fromEndpoints: [{ matchLabels: { app: db } }] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: portal-here, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: portal } }
      ingress: [{}]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumClusterwideNetworkPolicy
    metadata: { name: portal }
    spec:
      endpointSelector: { matchLabels: { app: portal } }
      ingress: [{}]
  `);
  // portal lives in web: a namespaced CNP in phi selects only phi's pods; the CCNP selects it.
  assert.deepEqual(rules(problems), [
    'PW-LINT-030 warning cilium.yaml:4',
    'PW-LINT-030 warning cilium.yaml:11',
  ]);
  assert.match(problems[0]?.message ?? '', /CiliumNetworkPolicy\/phi\/records selects no endpoint/);
  assert.match(problems[0]?.message ?? '', /pods in phi carry app=db, app=records/);
  assert.equal(problems[0]?.path, 'CiliumNetworkPolicy/phi/records#spec.endpointSelector');
});

test('PW-LINT-031 and PW-LINT-013: peers that match nothing, and peers in namespaces the input lacks', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingress:
        - fromEndpoints:
            - matchLabels: { app: records }
            - matchLabels: { app: portal }
          toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
        - fromEndpoints:
            - matchLabels: { k8s:io.kubernetes.pod.namespace: monitoring, app: prometheus }
        - fromNodes: [{ matchLabels: { role: control-plane } }]
        - fromCIDRSet: [{ cidrGroupRef: partner-clinics }]
  `);
  // { app: portal } gets phi as its namespace: portal runs in web, so it matches nothing.
  assert.deepEqual(rules(problems), [
    'PW-LINT-031 warning cilium.yaml:7',
    'PW-LINT-013 info cilium.yaml:11',
    'PW-LINT-031 warning cilium.yaml:13',
    'PW-LINT-031 warning cilium.yaml:14',
  ]);
  assert.equal(problems[0]?.path, 'CiliumNetworkPolicy/phi/db#spec.ingress[0].fromEndpoints[1]');
  assert.match(problems[1]?.message ?? '', /selects pods in monitoring, which the input holds no pods of/);
  assert.match(problems[2]?.message ?? '', /matches no Cilium node/);
  assert.match(problems[3]?.message ?? '', /cidrGroupRef partner-clinics names no CiliumCIDRGroup/);
});

test('PW-LINT-032: an allow a deny takes entirely, from another policy or a clusterwide one', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumClusterwideNetworkPolicy
    metadata: { name: no-internet-for-phi }
    spec:
      endpointSelector: { matchLabels: { k8s:io.kubernetes.pod.namespace: phi } }
      egressDeny: [{ toEntities: [world] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: records-out, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: records } }
      egress:
        - toCIDR: [203.0.113.0/24]
          toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
        - toFQDNs: [{ matchName: api.partner.example }]
          toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
        - toEndpoints: [{ matchLabels: { app: db } }]
          toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
        - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
          toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
  `);
  // The CIDR and the FQDN rule are external (world) only: the deny takes them. The db rule is in-cluster.
  assert.deepEqual(
    rules(problems).filter((r) => r.startsWith('PW-LINT-032')),
    ['PW-LINT-032 warning cilium.yaml:14', 'PW-LINT-032 warning cilium.yaml:16'],
  );
  assert.match(
    problems.find((p) => p.rule === 'PW-LINT-032')?.message ?? '',
    /CiliumNetworkPolicy\/phi\/records-out egress\[0\] allows nothing: CiliumClusterwideNetworkPolicy\/no-internet-for-phi egressDeny\[0\] \(cilium.yaml:6\) denies every connection/,
  );
});

test('PW-LINT-032 is not reported when the deny leaves some of the traffic', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingressDeny:
        - fromEndpoints: [{ matchLabels: { app: records } }]
          toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
      ingress:
        - fromEndpoints: [{ matchLabels: { app: records } }]
          toPorts: [{ ports: [{ port: "5432", protocol: TCP }, { port: "9187", protocol: TCP }] }]
  `);
  assert.deepEqual(rules(problems), []);
});

test('a rule that matches nothing (a port name no pod defines) is neither shadowed nor redundant', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingressDeny: [{ fromEndpoints: [{ matchLabels: { app: records } }], toPorts: [{ ports: [{ port: "9187" }] }] }]
      ingress:
        - fromEndpoints: [{ matchLabels: { app: records } }]
          toPorts: [{ ports: [{ port: "pg", protocol: TCP }] }]
        - fromEndpoints: [{ matchLabels: { app: records } }]
          toPorts: [{ ports: [{ port: "metrics", protocol: TCP }] }]
  `);
  // db names its port pg: the first rule allows 5432 and no deny takes it; no pod defines metrics.
  assert.deepEqual(rules(problems), []);
});

test('PW-LINT-033: a rule other allows already cover; of two twins only the first is reported', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingress:
        - fromEndpoints: [{ matchLabels: { app: records } }]
          toPorts: [{ ports: [{ port: "5432", protocol: TCP }] }]
        - fromEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: phi } }]
          toPorts: [{ ports: [{ port: "5000", endPort: 5500, protocol: TCP }] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db-copy, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingress:
        - fromEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: phi } }]
          toPorts: [{ ports: [{ port: "5000", endPort: 5500, protocol: TCP }] }]
  `);
  // ingress[0] (records on 5432) lies inside ingress[1] (all of phi on 5000-5500); db-copy repeats ingress[1].
  assert.deepEqual(rules(problems), [
    'PW-LINT-033 warning cilium.yaml:7',
    'PW-LINT-033 warning cilium.yaml:9',
  ]);
  assert.match(
    problems[1]?.message ?? '',
    /CiliumNetworkPolicy\/phi\/db ingress\[1\] is redundant: CiliumNetworkPolicy\/phi\/db-copy ingress\[0\] \(cilium.yaml:18\)/,
  );
});

test('PW-LINT-033: a deny other denies already take, across a CNP and a CCNP', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumClusterwideNetworkPolicy
    metadata: { name: no-smtp }
    spec:
      endpointSelector: {}
      egressDeny: [{ toPorts: [{ ports: [{ port: "25", protocol: TCP }, { port: "587", protocol: TCP }] }] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: records-no-smtp, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: records } }
      egressDeny: [{ toEntities: [world], toPorts: [{ ports: [{ port: "25", protocol: TCP }] }] }]
  `);
  // The CCNP denies port 25 to everything for every pod: the CNP's narrower deny adds nothing.
  assert.deepEqual(rules(problems), ['PW-LINT-033 warning cilium.yaml:13']);
  assert.match(problems[0]?.message ?? '', /already deny every connection it matches/);
});

test('PW-LINT-033 is not reported for the only rule isolating its endpoints', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db-in, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      ingress: [{ fromEndpoints: [{ matchLabels: { app: records } }] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: db-audit, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: db } }
      enableDefaultDeny: { ingress: false }
      ingress: [{ fromEndpoints: [{ matchLabels: { app: records } }] }]
  `);
  // db-in is the only policy isolating db: without its rule db would accept everything.
  assert.deepEqual(rules(problems), ['PW-LINT-033 warning cilium.yaml:14']);
});

test('PW-LINT-034: toFQDNs without a DNS rule, and with DNS rules that refuse the name', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: records-out, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: records } }
      egress:
        - toFQDNs: [{ matchName: api.partner.example }]
          toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
        - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
          toPorts: [{ ports: [{ port: "53", protocol: UDP }] }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: portal-out, namespace: web }
    spec:
      endpointSelector: { matchLabels: { app: portal } }
      egress:
        - toFQDNs: [{ matchPattern: "*.payments.example" }]
        - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns } }]
          toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchName: "www.payments.example" }] } }]
  `);
  // records reaches kube-dns, but at L4 only: its lookups bypass the DNS proxy.
  assert.deepEqual(
    rules(problems).filter((r) => r.startsWith('PW-LINT-034')),
    ['PW-LINT-034 error cilium.yaml:7', 'PW-LINT-034 error cilium.yaml:18'],
  );
  const [records, portal] = problems.filter((p) => p.rule === 'PW-LINT-034');
  assert.match(records?.message ?? '', /no egress rule to the cluster DNS on port 53 with rules.dns/);
  assert.match(portal?.message ?? '', /refuse lookups of \*.payments.example/);
});

test('PW-LINT-034 is satisfied by a clusterwide DNS rule covering every pod', () => {
  const problems = lint(yaml`
    apiVersion: cilium.io/v2
    kind: CiliumClusterwideNetworkPolicy
    metadata: { name: dns-visibility }
    spec:
      endpointSelector: {}
      egress:
        - toEndpoints: [{ matchLabels: { k8s:io.kubernetes.pod.namespace: kube-system, k8s:k8s-app: kube-dns } }]
          toPorts: [{ ports: [{ port: "53", protocol: ANY }], rules: { dns: [{ matchPattern: "*" }] } }]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata: { name: records-out, namespace: phi }
    spec:
      endpointSelector: { matchLabels: { app: records } }
      egress:
        - toFQDNs: [{ matchName: api.partner.example }, { matchPattern: "*.partner.example" }]
          toPorts: [{ ports: [{ port: "443", protocol: TCP }] }]
  `);
  assert.deepEqual(
    rules(problems).filter((r) => r.startsWith('PW-LINT-034')),
    [],
  );
});

test('DNS patterns: * alone lets everything through, elsewhere it stays within one label', () => {
  assert.equal(dnsPatternAllows('*', 'a.b.example'), true);
  assert.equal(dnsPatternAllows('*.example', 'api.example'), true);
  assert.equal(dnsPatternAllows('*.example', 'a.b.example'), false);
  assert.equal(dnsPatternAllows('*.example', '*.example'), true);
  assert.equal(dnsPatternAllows('*.com', '*.example.com'), false);
  assert.equal(dnsPatternAllows('api.example', 'apixexample'), false);
});

test('the Cilium clinic example lints clean: it has no toFQDNs rule for PW-LINT-034 to ask a DNS rule of', () => {
  const dir = fileURLToPath(new URL('../../examples/hipaa-clinic/cilium/', import.meta.url));
  const snapshot = loadSnapshot([dir]);
  assert.ok(snapshot.ciliumPolicies.length > 0);
  assert.ok(
    snapshot.ciliumPolicies.every((p) => p.egress.every((r) => !r.peers?.some((x) => x.kind === 'fqdn'))),
  );
  assert.deepEqual(lintSnapshot(snapshot, new Engine(snapshot, CILIUM)).problems, []);
});
