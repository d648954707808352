import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Snapshot } from '../model/types.ts';
import { yaml } from '../testing/yaml.ts';
import { type Diagnostic, formatDiagnostic, InputError } from './diagnostics.ts';
import { buildSnapshot, type LoadOptions } from './snapshot.ts';
import type { SourceText } from './sources.ts';

function load(text: string, options: LoadOptions = {}, path = 'x.yaml'): Snapshot {
  return buildSnapshot([{ path, text }], options);
}

function errorsOfSources(sources: readonly SourceText[], options: LoadOptions = {}): Diagnostic[] {
  try {
    buildSnapshot(sources, options);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics;
    throw error;
  }
  return assert.fail('expected an InputError');
}

function errorsOf(text: string, options: LoadOptions = {}, path = 'x.yaml'): Diagnostic[] {
  return errorsOfSources([{ path, text }], options);
}

const lines = (diagnostics: readonly Diagnostic[]) => diagnostics.map(formatDiagnostic);

test('every document of a multi-document file is read', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: deny, namespace: shop}
    spec: {podSelector: {}}
  `);
  assert.deepEqual([...snapshot.namespaces.keys()], ['shop']);
  assert.deepEqual(
    snapshot.pods.map((p) => p.name),
    ['web'],
  );
  assert.deepEqual(
    snapshot.policies.map((p) => p.name),
    ['deny'],
  );
  assert.deepEqual(snapshot.warnings, []);
  assert.equal(snapshot.partial, false);
});

test('empty documents and comment-only documents are neither objects nor warnings', () => {
  const snapshot = load('---\n# nothing here\n---\n---\n');
  assert.deepEqual(snapshot.pods, []);
  assert.deepEqual(snapshot.warnings, []);
});

test('inputs are listed with the sha256 of their text', () => {
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n';
  const snapshot = buildSnapshot([
    { path: 'a.yaml', text },
    { path: 'b.yaml', text: '' },
  ]);
  assert.deepEqual(snapshot.inputs, [
    { path: 'a.yaml', sha256: createHash('sha256').update(text).digest('hex') },
    { path: 'b.yaml', sha256: createHash('sha256').update('').digest('hex') },
  ]);
});

test('the items of a `kind: List` keep their own kinds, and their errors point inside the list', () => {
  const text = yaml`
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: Pod
        metadata: {name: a, namespace: shop}
      - apiVersion: v1
        kind: Pod
        metadata: {namespace: shop}
  `;
  assert.deepEqual(lines(errorsOf(text)), [
    'x.yaml:9:15: metadata.name: required value: this Pod has no name',
  ]);
  const snapshot = load(text, { skipInvalid: true });
  assert.deepEqual(
    snapshot.pods.map((p) => p.name),
    ['a'],
  );
});

test('items of a typed list without a kind take it from the list, and its apiVersion', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: NamespaceList
    items:
      - metadata: {name: shop, labels: {team: web}}
      - metadata: {name: billing}
  `);
  assert.deepEqual(
    [...snapshot.namespaces.values()],
    [
      { name: 'shop', labels: { team: 'web', 'kubernetes.io/metadata.name': 'shop' }, declared: true },
      { name: 'billing', labels: { 'kubernetes.io/metadata.name': 'billing' }, declared: true },
    ],
  );
});

test('a typed list of NetworkPolicies passes its apiVersion on, so the items are Kubernetes policies', () => {
  const snapshot = load(yaml`
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicyList
    items:
      - metadata: {name: deny, namespace: shop}
        spec: {podSelector: {}}
  `);
  assert.deepEqual(
    snapshot.policies.map((p) => `${p.namespace}/${p.name}`),
    ['shop/deny'],
  );
});

test('an item of a plain List without a kind is an error, and so is an item that is not an object', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: v1
        kind: List
        items:
          - metadata: {name: a}
          - just a string
      `),
    ),
    [
      'x.yaml:4:5: kind: required value: every object needs a kind',
      'x.yaml:5:5: items[1]: must be an object, not string "just a string"',
    ],
  );
});

test('a JSON list from `kubectl get -o json` is read, with positions for its errors', () => {
  const text = JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'PodList',
      items: [
        { metadata: { name: 'a', namespace: 'shop', labels: { app: 'web' } } },
        { metadata: { name: 'b', namespace: 'shop', labels: { app: 'web_' } } },
      ],
    },
    null,
    2,
  );
  const errors = errorsOf(text, {}, 'pods.json');
  assert.deepEqual(lines(errors), [
    'pods.json:19:18: metadata.labels.app: invalid label value "web_": a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
  ]);
  const snapshot = load(text, { skipInvalid: true }, 'pods.json');
  assert.deepEqual(
    snapshot.pods.map((p) => [p.name, p.labels]),
    [['a', { app: 'web' }]],
  );
});

test('documents that are not Kubernetes objects are skipped with a positioned warning, not silently', () => {
  const snapshot = buildSnapshot([
    { path: 'array.json', text: '[{"apiVersion": "v1", "kind": "Pod"}]' },
    { path: 'values.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nreplicas: 3\n' },
    { path: 'scalar.yaml', text: 'hello\n' },
  ]);
  assert.deepEqual(lines(snapshot.warnings), [
    'array.json:1:1: warning: not a Kubernetes object (no apiVersion, kind or metadata): skipped',
    'values.yaml:5:1: warning: not a Kubernetes object (no apiVersion, kind or metadata): skipped',
    'scalar.yaml:1:1: warning: not a Kubernetes object (no apiVersion, kind or metadata): skipped',
  ]);
  assert.deepEqual([...snapshot.namespaces.keys()], ['a']);
});

const WORKLOAD_KINDS = yaml`
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: deploy, namespace: ns}
  spec:
    template:
      metadata: {labels: {app: deploy}}
      spec:
        hostNetwork: true
        containers:
          - name: c
            ports: [{name: http, containerPort: 8080}, {containerPort: 9090}]
  ---
  apiVersion: apps/v1
  kind: ReplicaSet
  metadata: {name: rs, namespace: ns}
  spec: {template: {metadata: {labels: {app: rs}}}}
  ---
  apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: sts, namespace: ns}
  spec: {template: {metadata: {labels: {app: sts}}}}
  ---
  apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: ds, namespace: ns}
  spec: {template: {metadata: {labels: {app: ds}}}}
  ---
  apiVersion: batch/v1
  kind: Job
  metadata: {name: job, namespace: ns}
  spec: {template: {metadata: {labels: {app: job}}}}
  ---
  apiVersion: batch/v1
  kind: CronJob
  metadata: {name: cron, namespace: ns}
  spec:
    template: {metadata: {labels: {app: not-this-one}}}
    jobTemplate:
      spec:
        template: {metadata: {labels: {app: cron}}}
  ---
  apiVersion: v1
  kind: ReplicationController
  metadata: {name: rc, namespace: ns}
  spec: {template: {metadata: {labels: {app: rc}}}}
`;

test('each workload kind stands for its pod template when the input has none of its pods', () => {
  const snapshot = load(WORKLOAD_KINDS);
  assert.deepEqual(
    snapshot.workloads.map((w) => [w.id, w.kind, w.name, w.pods.map((p) => p.labels.app)]),
    [
      ['ns/deploy[Deployment]', 'Deployment', 'deploy', ['deploy']],
      ['ns/rs[ReplicaSet]', 'ReplicaSet', 'rs', ['rs']],
      ['ns/sts[StatefulSet]', 'StatefulSet', 'sts', ['sts']],
      ['ns/ds[DaemonSet]', 'DaemonSet', 'ds', ['ds']],
      ['ns/job[Job]', 'Job', 'job', ['job']],
      ['ns/cron[CronJob]', 'CronJob', 'cron', ['cron']],
      ['ns/rc[ReplicationController]', 'ReplicationController', 'rc', ['rc']],
    ],
  );
  const deploy = snapshot.pods[0];
  assert.deepEqual(deploy?.ips, []);
  assert.equal(deploy?.hostNetwork, true);
  // The port without a name cannot be named by a policy, so only `http` is recorded.
  assert.deepEqual(deploy?.namedPorts, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
  assert.deepEqual(deploy?.provenance.locate(), { line: 5, column: 3 });
  assert.deepEqual(snapshot.workloads[0]?.provenance.locate(), { line: 1, column: 1 });
  assert.deepEqual(snapshot.pods[5]?.provenance.locate(), { line: 40, column: 17 });
});

test('a workload without a pod template is an error at its spec', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: cron}
        spec:
          schedule: "* * * * *"
      `),
    ),
    ['x.yaml:4:1: spec.jobTemplate.spec.template: required value: a workload needs a pod template'],
  );
});

test('Services and Ingresses are kept as they are', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec: {selector: {app: web}}
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web}
    spec: {rules: []}
  `);
  assert.deepEqual(
    snapshot.services.map((s) => [s.kind, s.namespace, s.name, s.object.spec]),
    [['Service', 'shop', 'web', { selector: { app: 'web' } }]],
  );
  assert.deepEqual(
    snapshot.ingresses.map((s) => [s.kind, s.namespace, s.name, s.provenance.locate()]),
    [['Ingress', 'default', 'web', { line: 6, column: 1 }]],
  );
  assert.deepEqual([...snapshot.namespaces.keys()], ['shop', 'default']);
});

test('other kinds are skipped with one warning that counts them per kind and apiVersion', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: b}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: c}
    ---
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata: {name: calico, namespace: shop}
    spec:
      selector: app == 'web'
      ingress: [{action: Allow}]
  `);
  // A Calico NetworkPolicy is Calico's, not a Kubernetes one, and is read as such.
  assert.deepEqual(snapshot.policies, []);
  assert.equal(snapshot.calico?.policies[0]?.name, 'calico');
  assert.deepEqual(lines(snapshot.warnings), [
    'x.yaml: warning: skipped objects of kinds phiwall does not analyse: ConfigMap (v1) ×2, Secret (v1) ×1',
  ]);
});

test('a NetworkPolicy of an API version Kubernetes does not serve is named as such; one without an apiVersion is an error', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: extensions/v1beta1
        kind: NetworkPolicy
        metadata: {name: old}
        spec: {podSelector: {}}
        ---
        apiVersion: networking.k8s.io/v1beta1
        kind: NetworkPolicy
        metadata: {name: beta}
        spec: {podSelector: {}}
      `),
    ),
    [
      'x.yaml:1:13: apiVersion: NetworkPolicy extensions/v1beta1 is no longer served (removed in Kubernetes 1.16): use networking.k8s.io/v1, which phiwall reads',
      'x.yaml:6:13: apiVersion: NetworkPolicy networking.k8s.io/v1beta1 is not an API version Kubernetes serves: use networking.k8s.io/v1, which phiwall reads',
    ],
  );
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        kind: NetworkPolicy
        metadata: {name: unknown}
        spec: {podSelector: {}}
      `),
    ),
    ['x.yaml:1:1: apiVersion: required value: this NetworkPolicy has no apiVersion'],
  );
});

test('names of skipped kinds are not held to the rules of the analysed ones', () => {
  // Both are valid where they come from: RBAC names may contain colons, and a Kustomization has no name.
  const snapshot = load(yaml`
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: "system:coredns"}
    ---
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources: [deployment.yaml]
  `);
  assert.deepEqual(lines(snapshot.warnings), [
    'x.yaml: warning: skipped objects of kinds phiwall does not analyse: ClusterRole (rbac.authorization.k8s.io/v1) ×1, Kustomization (kustomize.config.k8s.io/v1beta1) ×1',
  ]);
});

test('the skipped-kinds warning names no single file when there are several inputs', () => {
  const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
  const snapshot = buildSnapshot([
    { path: 'a.yaml', text: configMap },
    { path: 'b.yaml', text: configMap.replace('name: a', 'name: b') },
  ]);
  assert.deepEqual(lines(snapshot.warnings), [
    '<input>: warning: skipped objects of kinds phiwall does not analyse: ConfigMap (v1) ×2',
  ]);
});

test('a pod belongs to its controller; other owners, a missing owner and a Node controller leave it a Pod', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: web-abc
      namespace: shop
      ownerReferences:
        - {apiVersion: v1, kind: ConfigMap, name: settings}
        - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, controller: true}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: debug
      namespace: shop
      ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, controller: false}]
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: etcd-node1
      namespace: kube-system
      ownerReferences: [{apiVersion: v1, kind: Node, name: node1, controller: true}]
  `);
  assert.deepEqual(
    snapshot.pods.map((p) => [p.name, p.workload]),
    [
      ['web-abc', 'shop/web-7d9f[ReplicaSet]'],
      ['debug', 'shop/debug[Pod]'],
      ['etcd-node1', 'kube-system/etcd-node1[Pod]'],
    ],
  );
  assert.deepEqual(
    snapshot.workloads.map((w) => [w.id, w.kind, w.name, w.namespace]),
    [
      ['shop/web-7d9f[ReplicaSet]', 'ReplicaSet', 'web-7d9f', 'shop'],
      ['shop/debug[Pod]', 'Pod', 'debug', 'shop'],
      ['kube-system/etcd-node1[Pod]', 'Pod', 'etcd-node1', 'kube-system'],
    ],
  );
});

test('a controller ownerReference without a kind or name is an error', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: v1
        kind: Pod
        metadata:
          name: a
          ownerReferences:
            - {kind: ReplicaSet, controller: true}
      `),
    ),
    ['x.yaml:6:7: metadata.ownerReferences[0].name: required value'],
  );
});

const DUMP = yaml`
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
  spec: {template: {metadata: {labels: {app: web}}}}
  ---
  apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-7d9f
    namespace: shop
    ownerReferences: [{kind: Deployment, name: web, controller: true}]
  spec: {template: {metadata: {labels: {app: web}}}}
`;

const dumpPod = (name: string, ip: string) => yaml`
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: ${name}
    namespace: shop
    labels: {app: web}
    ownerReferences: [{kind: ReplicaSet, name: web-7d9f, controller: true}]
  status: {podIP: ${ip}}
`;

test('a Deployment, its ReplicaSet and their pods are one workload, named after the Deployment', () => {
  const text = `${DUMP}${dumpPod('web-7d9f-a', '10.0.0.1')}${dumpPod('web-7d9f-b', '10.0.0.2')}`;
  const snapshot = load(text);
  assert.deepEqual(
    snapshot.workloads.map((w) => [w.id, w.pods.map((p) => [p.name, p.ips])]),
    [
      [
        'shop/web[Deployment]',
        [
          ['web-7d9f-a', ['10.0.0.1']],
          ['web-7d9f-b', ['10.0.0.2']],
        ],
      ],
    ],
  );
  // The workload points at the Deployment object, not at its first pod.
  assert.deepEqual(snapshot.workloads[0]?.provenance.locate(), { line: 1, column: 1 });
  // netpol-analyzer's names: the immediate controller, pointing at the ReplicaSet object.
  const byController = load(text, { workloadNames: 'controller' });
  assert.deepEqual(
    byController.workloads.map((w) => [w.id, w.pods.length]),
    [['shop/web-7d9f[ReplicaSet]', 2]],
  );
  assert.deepEqual(byController.workloads[0]?.provenance.locate(), { line: 6, column: 1 });
});

test('a Deployment and its ReplicaSet without pods are one workload: the Deployment', () => {
  const snapshot = load(DUMP);
  assert.deepEqual(
    snapshot.workloads.map((w) => w.id),
    ['shop/web[Deployment]'],
  );
  assert.equal(snapshot.pods.length, 1);
});

test('pod IPs come from podIP and podIPs without repeats; an invalid IP is an error', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Pod
    metadata: {name: dual}
    status:
      podIP: 10.0.0.5
      podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]
  `);
  assert.deepEqual(snapshot.pods[0]?.ips, ['10.0.0.5', 'fd00::5']);
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: v1
        kind: Pod
        metadata: {name: bad}
        status:
          podIPs: [{ip: 10.0.0.256}]
      `),
    ),
    ['x.yaml:5:17: status.podIPs[0].ip: "10.0.0.256" is not a valid IP address'],
  );
});

test('finished pods keep their workload but lose their IPs, with a warning', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: migrate-x1
      namespace: shop
      ownerReferences: [{kind: Job, name: migrate, controller: true}]
    status: {phase: Succeeded, podIP: 10.0.0.9}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: crashed, namespace: shop}
    status: {phase: Failed, podIP: 10.0.0.10}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: running, namespace: shop}
    status: {phase: Running, podIP: 10.0.0.11}
  `);
  assert.deepEqual(
    snapshot.pods.map((p) => [p.workload, p.ips]),
    [
      ['shop/migrate[Job]', []],
      ['shop/crashed[Pod]', []],
      ['shop/running[Pod]', ['10.0.0.11']],
    ],
  );
  assert.deepEqual(lines(snapshot.warnings), [
    '<input>: warning: 2 finished pod(s) (phase Succeeded or Failed): kept as the shape of their workload, their released IPs ignored',
  ]);
});

test('named ports come from app containers and sidecar init containers; malformed ones are warnings', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      initContainers:
        - {name: setup, ports: [{name: setup, containerPort: 1}]}
        - {name: proxy, restartPolicy: Always, ports: [{name: proxy, containerPort: 15001}]}
      containers:
        - name: app
          ports:
            - {name: dns, containerPort: 53, protocol: UDP}
            - {name: Bad_Name, containerPort: 80}
            - {name: big, containerPort: 70000}
  `);
  assert.deepEqual(snapshot.pods[0]?.namedPorts, [
    { name: 'dns', protocol: 'UDP', port: 53 },
    { name: 'proxy', protocol: 'TCP', port: 15001 },
  ]);
  assert.deepEqual(
    snapshot.warnings.map((w) => [w.line, w.column, w.field]),
    [
      [12, 11, 'spec.containers[0].ports[1]'],
      [13, 11, 'spec.containers[0].ports[2]'],
    ],
  );
  assert.match(
    snapshot.warnings[0]?.message ?? '',
    /^named port "Bad_Name" ignored: a port name must be lowercase/,
  );
  assert.equal(
    snapshot.warnings[1]?.message,
    'named port "big" ignored: containerPort must be a port number between 1 and 65535',
  );
});

test('namespaces referred to but not declared exist, with only the name label', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
      labels: {team: web, kubernetes.io/metadata.name: forged}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: billing}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: shop}
  `);
  assert.deepEqual(Object.fromEntries(snapshot.namespaces), {
    shop: {
      name: 'shop',
      labels: { team: 'web', 'kubernetes.io/metadata.name': 'shop' },
      declared: true,
    },
    billing: { name: 'billing', labels: { 'kubernetes.io/metadata.name': 'billing' }, declared: false },
  });
});

test('objects without metadata.namespace go to `default`, or to the namespace option', () => {
  const text = yaml`
    apiVersion: v1
    kind: Pod
    metadata: {name: a}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: explicit}
  `;
  assert.deepEqual(
    load(text).pods.map((p) => p.workload),
    ['default/a[Pod]', 'explicit/b[Pod]'],
  );
  const other = load(text, { namespace: 'staging' });
  assert.deepEqual(
    other.pods.map((p) => p.workload),
    ['staging/a[Pod]', 'explicit/b[Pod]'],
  );
  assert.deepEqual([...other.namespaces.keys()], ['staging', 'explicit']);
});

test('every error of the input is reported, in order, not only the first', () => {
  const text = yaml`
    apiVersion: v1
    kind: Pod
    metadata:
      name: Web_1
      namespace: Shop
      labels:
        "-bad": x
        ok: "bad value"
        version: 1
    ---
    apiVersion: v1
    metadata: {name: nokind}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {labels: {a: b}}
    ---
    apiVersion: v1
    kind: Pod
    metadata: [not, a, mapping]
  `;
  const errors = errorsOf(text);
  assert.ok(errors.every((e) => e.severity === 'error' && e.file === 'x.yaml'));
  assert.deepEqual(lines(errors), [
    'x.yaml:4:9: metadata.name: invalid name "Web_1": must be a lowercase RFC 1123 subdomain (a-z, 0-9, - and .)',
    'x.yaml:5:14: metadata.namespace: invalid namespace "Shop": must be a lowercase RFC 1123 label (a-z, 0-9 and -, alphanumeric at both ends)',
    'x.yaml:11:1: kind: required value: every object needs a kind',
    'x.yaml:16:11: metadata.name: required value: this Pod has no name',
    'x.yaml:20:11: metadata: must be a mapping, not a list',
    'x.yaml:20:11: metadata.name: required value: this Pod has no name',
    'x.yaml:7:13: metadata.labels.-bad: invalid label key "-bad": a label key name must consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
    'x.yaml:8:9: metadata.labels.ok: invalid label value "bad value": a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
    'x.yaml:9:14: metadata.labels.version: label value must be a string, not 1 (quote it)',
  ]);
});

test('the InputError message lists every diagnostic as file:line:column: field: message', () => {
  assert.throws(
    () => load('apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {x: true}}\n'),
    (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(
        error.message,
        'x.yaml:3:33: metadata.labels.x: label value must be a string, not true (quote it)',
      );
      return true;
    },
  );
});

test('label keys with a prefix are checked in both parts', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: v1
        kind: Namespace
        metadata:
          name: ns
          labels:
            Example.com/app: a
            example.com/: b
            a/b/c: c
            app.kubernetes.io/name: fine
      `),
    ).map((l) => l.replace(/: (invalid label key "[^"]*"): .*$/, ': $1')),
    [
      'x.yaml:6:22: metadata.labels.Example.com/app: invalid label key "Example.com/app"',
      'x.yaml:7:19: metadata.labels.example.com/: invalid label key "example.com/"',
      'x.yaml:8:12: metadata.labels.a/b/c: invalid label key "a/b/c"',
    ],
  );
});

test('a YAML syntax error is reported with its position among the other errors', () => {
  const errors = errorsOf(
    yaml`
      apiVersion: v1
      kind: Pod
      metadata: {name: a, labels: {app: "x y"}}
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: b
          namespace: c
    `,
  );
  assert.deepEqual([errors[0]?.line, errors[0]?.column, errors[0]?.field], [8, 9, undefined]);
  assert.match(errors[0]?.message ?? '', /^invalid YAML: /);
  assert.deepEqual(
    [errors.at(-1)?.line, errors.at(-1)?.column, errors.at(-1)?.field],
    [3, 35, 'metadata.labels.app'],
  );
});

test('duplicate objects are errors pointing back to the first definition, across files too', () => {
  const pod = (namespace: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: ${namespace}}\n`;
  const errors = errorsOfSources([
    { path: 'a.yaml', text: `${pod('shop')}---\n${pod('billing')}` },
    {
      path: 'b.yaml',
      // Same name, other kind or other namespace: not duplicates.
      text: `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n---\n${pod('shop')}`,
    },
    { path: 'c.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' },
    { path: 'd.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' },
  ]);
  assert.deepEqual(lines(errors), [
    'b.yaml:7:18: metadata.name: duplicate Pod "shop/web" (first defined at a.yaml:1)',
    'd.yaml:3:18: metadata.name: duplicate Namespace "shop" (first defined at c.yaml:1)',
  ]);
});

test('skipInvalid leaves invalid objects out and marks the snapshot partial', () => {
  const snapshot = load(
    yaml`
      apiVersion: v1
      kind: Pod
      metadata: {name: good, namespace: shop}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: bad, namespace: shop, labels: {app: "no spaces"}}
      ---
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: typo, namespace: shop}
      spec:
        podSelector: {}
        ingres:
          - {}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {namespace: shop}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: good, namespace: shop}
    `,
    { skipInvalid: true },
  );
  assert.equal(snapshot.partial, true);
  assert.deepEqual(
    snapshot.pods.map((p) => p.name),
    ['good'],
  );
  // Kept without its misspelt rules, the policy would deny all ingress the author meant to allow.
  assert.deepEqual(snapshot.policies, []);
  assert.deepEqual(lines(snapshot.warnings), [
    '<input>: warning: left out 4 invalid input(s) (--skip-invalid): the result is partial',
    'x.yaml:19:11: warning: metadata.name: required value: this Pod has no name',
    'x.yaml:23:18: warning: metadata.name: duplicate Pod "shop/good" (first defined at x.yaml:1)',
    'x.yaml:7:54: warning: metadata.labels.app: invalid label value "no spaces": a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
    'x.yaml:14:3: warning: spec.ingres: unknown field "ingres"',
  ]);
});

test('skipInvalid leaves out a workload with an invalid template, and an invalid namespace declaration', () => {
  const snapshot = load(
    yaml`
      apiVersion: v1
      kind: Namespace
      metadata: {name: shop, labels: {tier: "a b"}}
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec: {template: {metadata: {labels: {app: "a b"}}}}
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: api, namespace: shop}
      spec: {template: {metadata: {labels: {app: api}}}}
    `,
    { skipInvalid: true },
  );
  assert.deepEqual(
    snapshot.workloads.map((w) => w.id),
    ['shop/api[Deployment]'],
  );
  // Still referred to by the valid Deployment, so it exists, but its declaration (and labels) were invalid.
  assert.deepEqual(snapshot.namespaces.get('shop'), {
    name: 'shop',
    labels: { 'kubernetes.io/metadata.name': 'shop' },
    declared: false,
  });
});

test('skipInvalid also gets past a YAML syntax error in one document', () => {
  const snapshot = load('a: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n', { skipInvalid: true });
  assert.equal(snapshot.partial, true);
  assert.deepEqual(
    snapshot.pods.map((p) => p.name),
    ['a'],
  );
  assert.ok(snapshot.warnings.some((w) => w.message.startsWith('invalid YAML: ')));
});

test('a Deployment whose ReplicaSet is missing from the input is not counted again beside its pods', () => {
  const snapshot = load(yaml`
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web}]}}}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: web-5d9c7b-x2x9q
      namespace: shop
      labels: {app: web, pod-template-hash: 5d9c7b}
      ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c7b, controller: true}]
    spec: {containers: [{name: web}]}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker, namespace: shop}
    spec: {template: {metadata: {labels: {app: worker}}, spec: {containers: [{name: worker}]}}}
  `);
  assert.deepEqual(
    snapshot.workloads.map((w) => [w.id, w.pods.map((p) => p.name), w.namedBy]),
    [
      ['shop/web[Deployment]', ['web-5d9c7b-x2x9q'], 'pod-template-hash'],
      ['shop/worker[Deployment]', ['worker'], undefined],
    ],
  );
});

test('what kubectl rejects is rejected: unknown metadata fields, quoted port numbers, null List items', () => {
  assert.deepEqual(
    lines(
      errorsOf(yaml`
        apiVersion: v1
        kind: Pod
        metadata: {name: web, lables: {app: web}}
        spec:
          containers:
            - name: c
              ports: [{name: http, containerPort: "8080"}, {containerPort: 80, hostPort: 8.5}]
        ---
        apiVersion: v1
        kind: List
        items:
          - null
      `),
    ),
    [
      'x.yaml:3:31: metadata.lables: unknown field "lables"',
      'x.yaml:12:5: items[0]: must be an object, not null',
      'x.yaml:7:43: spec.containers[0].ports[0].containerPort: must be an integer, not string "8080"',
      'x.yaml:7:82: spec.containers[0].ports[1].hostPort: must be an integer, not number 8.5',
    ],
  );
});
