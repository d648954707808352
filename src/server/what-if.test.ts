import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import type { Finding } from '../compliance/types.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Graph, GraphEdge } from './graph.ts';
import { ServeState } from './state.ts';
import { clinicApp, clinicState } from './test-support.ts';
import type { WhatIfResult } from './what-if.ts';

const state = await clinicState('secure');
const { request } = clinicApp(state);
const REPORTS = 'analytics/reports[Deployment]';
const EHR = 'ehr/ehr-api[Deployment]';

function whatIf(body: unknown) {
  return request('/api/what-if', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

// Opens the EHR API to the analytics namespace, which is not in allowedIngressNamespaces: both sides.
const OPEN_EHR_TO_ANALYTICS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-analytics, namespace: ehr}
spec:
  podSelector: {matchLabels: {app: ehr-api}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: analytics}}
      ports: [{port: 8443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: reports-to-ehr, namespace: analytics}
spec:
  podSelector: {matchLabels: {app: reports}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ehr}}
      ports: [{port: 8443}]
`;

test('what-if: a policy that opens a PHI workload to another namespace adds the edge and a failing HIPAA-NP-011', async () => {
  const before = (await (await request('/api/graph')).json()) as Graph;
  assert.ok(!before.edges.some((e) => e.id === `${REPORTS}->${EHR}`), 'not allowed in the secure clinic');

  const response = await whatIf({ yaml: OPEN_EHR_TO_ANALYTICS });
  assert.equal(response.status, 200);
  const result = (await response.json()) as WhatIfResult;
  const added = result.added.find((e) => e.id === `${REPORTS}->${EHR}`) as GraphEdge;
  assert.deepEqual(
    { ports: added.ports, phi: added.phi, source: added.source, target: added.target },
    { ports: 'TCP 8443', phi: true, source: REPORTS, target: EHR },
  );
  assert.deepEqual(result.removed, []);
  const np011 = result.newFindings.filter((f: Finding) => f.check === 'HIPAA-NP-011');
  assert.equal(np011.length, 1);
  assert.equal(np011[0]?.status, 'fail');
  assert.ok(np011[0]?.objects.includes('analytics'));
  assert.deepEqual(result.resolvedFindings, []);
  assert.ok(result.graph.edges.some((e) => e.id === `${REPORTS}->${EHR}`));
  assert.equal(result.graph.source.kind, 'what-if');

  // Nothing is applied: the served graph is unchanged.
  const after = (await (await request('/api/graph')).json()) as Graph;
  assert.deepEqual(after, before);
});

test('what-if: an object of the same kind, namespace and name replaces the input one; delete removes', async () => {
  const replaced = await whatIf({
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: ehr}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`,
  });
  assert.equal(replaced.status, 200, 'a same-named policy is a replacement, not a duplicate');
  const same = (await replaced.json()) as WhatIfResult;
  assert.deepEqual([same.added, same.removed, same.changed, same.newFindings], [[], [], [], []]);

  const deleted = (await (
    await whatIf({ delete: [{ kind: 'NetworkPolicy', namespace: 'ehr', name: 'default-deny' }] })
  ).json()) as WhatIfResult;
  // The EHR API's own policy still isolates it both ways: no edge changes, but the namespace has no
  // default deny any more.
  assert.deepEqual([deleted.added, deleted.removed], [[], []]);
  assert.deepEqual(
    deleted.newFindings.map((f) => [f.check, f.status, f.objects]),
    [['HIPAA-NP-007', 'fail', ['ehr']]],
  );

  const missing = await whatIf({ delete: [{ kind: 'NetworkPolicy', namespace: 'ehr', name: 'ghost' }] });
  assert.equal(missing.status, 400);
  assert.deepEqual(await missing.json(), {
    errors: ['request: delete: the input has no NetworkPolicy "ehr/ghost"'],
  });
});

test('what-if: invalid YAML or objects answer 400 with positioned messages', async () => {
  const broken = await whatIf({
    yaml: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x\n',
  });
  assert.equal(broken.status, 400);
  const { errors } = (await broken.json()) as { errors: string[] };
  assert.ok(errors.length > 0);
  assert.match(errors[0] ?? '', /^what-if\.yaml:\d+:\d+: /);

  const invalid = await whatIf({
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: ehr}
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock: {cidr: 10.0.0.0/33}
`,
  });
  assert.equal(invalid.status, 400);
  const body = (await invalid.json()) as { errors: string[] };
  assert.match(body.errors[0] ?? '', /^what-if\.yaml:8:\d+: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: /);

  for (const [payload, pattern] of [
    [[1, 2], /JSON object/],
    [{ yaml: 3 }, /"yaml" must be a string/],
    [{ delete: [{ kind: 'NetworkPolicy' }] }, /delete\[0\]: needs a kind and a name/],
  ] as const) {
    const response = await whatIf(payload);
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { errors: string[] }).errors[0] ?? '', pattern);
  }
  const notJson = await request('/api/what-if', { method: 'POST', body: 'yaml=x' });
  assert.equal(notJson.status, 415, 'a cross-site form post cannot send JSON without a preflight');
});

test('what-if: external blocks compare by address: a re-spelling is no change, a narrowing removes the rest', async () => {
  const egress = (to: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: app}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [${to}], ports: [{port: 443}]}]
`;
  const base = `apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {containers: [{name: c, image: web}]}
---
${egress('{ipBlock: {cidr: 10.0.0.0/8}}')}`;
  const served = await ServeState.create(buildSnapshot([{ path: 'base.yaml', text: base }]), {
    config: DEFAULT_CONFIG,
    engineOptions: DEFAULT_OPTIONS,
    source: { kind: 'files', label: 'base' },
  });
  const ask = async (yaml: string) => {
    const response = await clinicApp(served).request('/api/what-if', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ yaml }),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as WhatIfResult;
  };
  const respelled = await ask(egress('{ipBlock: {cidr: 10.128.0.0/9}}, {ipBlock: {cidr: 10.0.0.0/9}}'));
  assert.deepEqual([respelled.added, respelled.removed, respelled.changed], [[], [], []]);

  const narrowed = await ask(egress('{ipBlock: {cidr: 10.0.0.0/9}}'));
  assert.deepEqual(narrowed.added, []);
  assert.deepEqual(narrowed.changed, []);
  assert.deepEqual(
    narrowed.removed.map((e) => [e.source, e.target, e.ports]),
    [['app/web[Pod]', 'external:10.128.0.0/9', 'TCP 443']],
  );
  assert.ok(
    narrowed.graph.nodes.some((n) => n.id === 'external:10.128.0.0/9'),
    'the range that changed has a node to draw the edge to',
  );
});
