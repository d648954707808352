import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditOf } from '../testing/audit.ts';
import { yaml } from '../testing/yaml.ts';
import type { AuditResult } from './audit.ts';

// Shaped like an open-source EHR deployed from its chart: one PHI namespace with a database, the web
// application, a cache and an admin UI, published by a LoadBalancer and a NodePort, and no policies.
function workload(name: string, kind: string, app: string, port: number): string {
  return yaml`
    apiVersion: apps/v1
    kind: ${kind}
    metadata: {name: ${name}, namespace: ehr}
    spec:
      selector: {matchLabels: {app: ${app}}}
      template:
        metadata:
          labels: {app: ${app}, app.kubernetes.io/version: "7.0.2", helm.sh/chart: ehr-7.0.2}
        spec:
          containers: [{name: main, image: ${app}, ports: [{containerPort: ${port}}]}]
    ---
  `;
}

const EHR = [
  yaml`
    apiVersion: v1
    kind: Namespace
    metadata: {name: ehr, labels: {data-classification: phi}}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: ingress-nginx}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: controller, namespace: ingress-nginx}
    spec:
      selector: {matchLabels: {app: ingress-nginx}}
      template:
        metadata: {labels: {app: ingress-nginx}}
        spec: {containers: [{name: c, image: ingress-nginx}]}
    ---
  `,
  workload('mysql', 'StatefulSet', 'mysql', 3306),
  workload('web', 'Deployment', 'web', 443),
  workload('redis', 'Deployment', 'redis', 6379),
  workload('admin', 'Deployment', 'admin', 8443),
  yaml`
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: ehr}
    spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 443}]}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: admin, namespace: ehr}
    spec: {type: NodePort, selector: {app: admin}, ports: [{port: 8443, nodePort: 30443}]}
  `,
].join('\n');

/** A default-deny and one allow per flow the application needs, DNS included. */
const POLICIES = yaml`
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny, namespace: ehr}
  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: dns, namespace: ehr}
  spec:
    podSelector: {}
    policyTypes: [Egress]
    egress:
      - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
        ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: web, namespace: ehr}
  spec:
    podSelector: {matchLabels: {app: web}}
    policyTypes: [Ingress, Egress]
    ingress:
      - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
        ports: [{port: 443}]
    egress:
      - to: [{podSelector: {matchLabels: {app: mysql}}}]
        ports: [{port: 3306}]
      - to: [{podSelector: {matchLabels: {app: redis}}}]
        ports: [{port: 6379}]
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: mysql, namespace: ehr}
  spec:
    podSelector: {matchLabels: {app: mysql}}
    policyTypes: [Ingress]
    ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}, {podSelector: {matchLabels: {app: admin}}}]
        ports: [{port: 3306}]
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: redis, namespace: ehr}
  spec:
    podSelector: {matchLabels: {app: redis}}
    policyTypes: [Ingress]
    ingress:
      - from: [{podSelector: {matchLabels: {app: web}}}]
        ports: [{port: 6379}]
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: admin, namespace: ehr}
  spec:
    podSelector: {matchLabels: {app: admin}}
    policyTypes: [Ingress, Egress]
    ingress:
      - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
        ports: [{port: 8443}]
    egress:
      - to: [{podSelector: {matchLabels: {app: mysql}}}]
        ports: [{port: 3306}]
`;

function causesOf(result: AuditResult) {
  return result.rootCauses.map((c) => c.id);
}

describe('root causes on an EHR-shaped namespace', () => {
  const open = auditOf(EHR);

  test('without policies: at most 8 root causes, led by the missing default-deny', () => {
    assert.ok(open.rootCauses.length > 0);
    assert.ok(open.rootCauses.length <= 8, causesOf(open).join('\n'));
    const deny = open.rootCauses.find((c) => c.id === 'default-deny:ehr');
    assert.ok(deny, causesOf(open).join('\n'));
    assert.equal(deny.title, 'namespace ehr has no default-deny');
    assert.equal(deny.severity, 'critical');
    for (const check of ['HIPAA-NP-005', 'HIPAA-NP-006', 'HIPAA-NP-007', 'HIPAA-NP-009'])
      assert.ok(deny.checks.includes(check), check);
    for (const w of ['mysql[StatefulSet]', 'web[Deployment]', 'redis[Deployment]', 'admin[Deployment]'])
      assert.ok(deny.objects.includes(`ehr/${w}`), w);
    assert.match(deny.remediation?.yaml ?? '', /podSelector: \{\}\n {2}policyTypes: \[Ingress, Egress\]/);
  });

  test('each root cause names its findings, and each failing finding names its root cause', () => {
    const grouped = new Set<number>();
    for (const cause of open.rootCauses) {
      assert.ok(cause.findings.length > 0, cause.id);
      for (const index of cause.findings) {
        const finding = open.findings[index];
        assert.equal(finding?.rootCause, cause.id);
        assert.ok(cause.checks.includes(finding.check));
        grouped.add(index);
      }
    }
    open.findings.forEach((f, i) => {
      const failing = f.status === 'fail' || f.status === 'needs-review';
      assert.equal(grouped.has(i), failing, `${f.check} ${f.status}`);
      if (!failing) assert.equal(f.rootCause, undefined);
    });
  });

  test('the exposed Services stay their own root causes', () => {
    assert.ok(causesOf(open).includes('object:ehr/web'));
    assert.ok(causesOf(open).includes('object:ehr/admin'));
  });

  test('with a default-deny and per-workload allows, no isolation root cause remains', () => {
    const closed = auditOf(`${EHR}\n${POLICIES}`);
    const ids = causesOf(closed);
    assert.ok(ids.length > 0, 'the Services are still exposed');
    assert.deepEqual(
      ids.filter((id) => id.startsWith('default-deny:') || id.startsWith('isolation:')),
      [],
    );
  });

  test('summary counts checks, root causes and findings separately', () => {
    const { summary } = open;
    const checks = Object.values(summary.checksByStatus).reduce((a, b) => a + b, 0);
    assert.equal(checks, 33);
    assert.equal(
      Object.values(summary.rootCausesBySeverity).reduce((a, b) => a + b, 0),
      open.rootCauses.length,
    );
    assert.ok(summary.findingsBySeverity.critical >= 4);
  });
});
