import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditOf } from '../testing/audit.ts';
import { yaml } from '../testing/yaml.ts';
import type { AuditResult } from './audit.ts';
import type { AuditConfig } from './config.ts';

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
    apiVersion: v1
    kind: Namespace
    metadata: {name: kube-system}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: coredns, namespace: kube-system}
    spec:
      selector: {matchLabels: {k8s-app: kube-dns}}
      template:
        metadata: {labels: {k8s-app: kube-dns}}
        spec: {containers: [{name: c, image: coredns, ports: [{containerPort: 53, protocol: UDP}]}]}
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

/** The clinic's own decisions: the ingress controller may reach PHI, and the flows the application needs. */
const CONFIG: Partial<AuditConfig> = {
  allowedIngressNamespaces: ['ingress-nginx'],
  approvedFlows: [
    { from: 'ingress-nginx/controller', to: 'ehr/web', port: 443, protocol: 'TCP' },
    { from: 'ingress-nginx/controller', to: 'ehr/admin', port: 8443, protocol: 'TCP' },
    { from: 'ehr/web', to: 'ehr/mysql', port: 3306, protocol: 'TCP' },
    { from: 'ehr/web', to: 'ehr/redis', port: 6379, protocol: 'TCP' },
    { from: 'ehr/admin', to: 'ehr/mysql', port: 3306, protocol: 'TCP' },
  ],
};

function causesOf(result: AuditResult) {
  return result.rootCauses.map((c) => c.id);
}

describe('root causes on an EHR-shaped namespace', () => {
  const open = auditOf(EHR, CONFIG);

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

  test('with a default-deny and per-workload allows, only what policies cannot fix remains of them', () => {
    const closed = auditOf(`${EHR}\n${POLICIES}`, CONFIG);
    const before = new Set(causesOf(open));
    const still = closed.rootCauses.filter((c) => before.has(c.id));
    // By hand: Services that publish PHI (022), the Admin-tier guardrail no NetworkPolicy gives (033),
    // and the ingress controller's own namespace, which the policies in ehr do not touch (008).
    assert.deepEqual(still.map((c) => [c.id, c.checks]).sort(), [
      ['object:ehr', ['HIPAA-NP-033']],
      ['object:ehr/admin', ['HIPAA-NP-022']],
      ['object:ehr/web', ['HIPAA-NP-022']],
      ['object:ingress-nginx', ['HIPAA-NP-008']],
    ]);
    assert.ok(before.has('default-deny:ehr'));
    assert.deepEqual(
      causesOf(closed).filter((id) => id.startsWith('default-deny:') || id.startsWith('isolation:')),
      [],
    );
  });

  test('an empty approvedFlows is one review, with every entry to paste', () => {
    const closed = auditOf(`${EHR}\n${POLICIES}`, { allowedIngressNamespaces: ['ingress-nginx'] });
    const review = closed.rootCauses.find((c) => c.id === 'review:HIPAA-NP-012');
    assert.ok(review, causesOf(closed).join('\n'));
    // The two flows from outside PHI: the controller into web on 443 and into admin on 8443.
    assert.equal(review.findings.length, 2);
    assert.equal(
      review.title,
      'approvedFlows is empty: 2 flow(s) into PHI wait for a person to confirm them',
    );
    assert.equal(
      review.remediation?.yaml,
      'approvedFlows:\n' +
        '  - {from: ingress-nginx/controller, to: ehr/admin, port: 8443, protocol: TCP}\n' +
        '  - {from: ingress-nginx/controller, to: ehr/web, port: 443, protocol: TCP}\n',
    );
    // Ports outside tlsPorts into the database and the cache are one TLS review.
    const tls = closed.rootCauses.find((c) => c.id === 'review:HIPAA-NP-020');
    assert.deepEqual(tls?.objects.sort(), ['ehr/mysql[StatefulSet]', 'ehr/redis[Deployment]']);
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

// Three PHI namespaces built from one template: a database behind a default-deny, opened to every
// namespace on 5432 by policies of different names; north's rule differs (5433).
function tenant(ns: string, port: number, databases = ['db']): string {
  return [
    yaml`
      apiVersion: v1
      kind: Namespace
      metadata: {name: ${ns}, labels: {data-classification: phi}}
      ---
      apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: default-deny, namespace: ${ns}}
      spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
    `,
    ...databases.map(
      (db) => yaml`
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: ${db}, namespace: ${ns}}
        spec:
          selector: {matchLabels: {app: ${db}}}
          template:
            metadata: {labels: {app: ${db}}}
            spec: {containers: [{name: main, image: postgres}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: ${db}-${ns}, namespace: ${ns}}
        spec:
          podSelector: {matchLabels: {app: ${db}}}
          ingress: [{from: [{namespaceSelector: {}}], ports: [{port: ${port}}]}]
      `,
    ),
  ].join('\n');
}

describe('alike root causes across namespaces fold into one', () => {
  const result = auditOf(
    [tenant('east', 5432, ['db', 'db2']), tenant('west', 5432), tenant('north', 5433)].join('\n---\n'),
  );

  test('the same open rule in several namespaces is one root cause naming each rule', () => {
    const folded = result.rootCauses.filter((c) => c.folded?.some((id) => id.startsWith('rule:')));
    assert.equal(folded.length, 1, causesOf(result).join('\n'));
    const [cause] = folded;
    assert.ok(cause);
    assert.match(cause.id, /^rule:alike:[0-9a-f]{12}$/);
    // namespaceSelector: {} admits all pods of all namespaces (009, critical) and every namespace (010).
    assert.deepEqual(cause.checks, ['HIPAA-NP-009', 'HIPAA-NP-010']);
    assert.equal(cause.severity, 'critical');
    assert.deepEqual(cause.folded, [
      'rule:east/db-east#spec.ingress[0]',
      'rule:east/db2-east#spec.ingress[0]',
      'rule:west/db-west#spec.ingress[0]',
    ]);
    assert.equal(
      cause.title,
      'the same ingress rule in 3 policies of 2 namespaces: accepts ingress from every address; accepts ingress from every namespace (east/db-east#spec.ingress[0], east/db2-east#spec.ingress[0], west/db-west#spec.ingress[0])',
    );
    for (const w of ['east/db[Deployment]', 'east/db2[Deployment]', 'west/db[Deployment]'])
      assert.ok(cause.objects.includes(w), w);
    // Two findings (009 and 010) per database, each pointing back at the folded cause.
    assert.equal(cause.findings.length, 6);
    for (const index of cause.findings) assert.equal(result.findings[index]?.rootCause, cause.id);
    assert.match(cause.remediation?.text ?? '', /^Each of the 3 listed needs the same change/);
    // Its manifest is east/db's: applied with east/db's open rule removed, east/db's 009 and 010 pass.
    assert.deepEqual(
      cause.remediationCovers?.map((i) => result.findings[i]?.objects),
      [['east/db[Deployment]'], ['east/db[Deployment]']],
    );
  });

  test('a rule that differs stays its own root cause', () => {
    assert.ok(causesOf(result).includes('rule:north/db-north#spec.ingress[0]'));
  });

  test('the same namespace-level problem folds too, listing the namespaces', () => {
    const guardrail = result.rootCauses.find((c) => c.checks.join() === 'HIPAA-NP-033');
    assert.ok(guardrail?.folded, causesOf(result).join('\n'));
    assert.deepEqual(guardrail.folded, ['object:east', 'object:north', 'object:west']);
    assert.equal(guardrail.title, '3 namespaces: no Admin-tier guardrail (east, north, west)');
  });
});
