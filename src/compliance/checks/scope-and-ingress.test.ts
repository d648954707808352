import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { computeConnectivity } from '../../analysis/connectivity.ts';
import { DEFAULT_OPTIONS } from '../../engine/endpoint.ts';
import { Engine } from '../../engine/engine.ts';
import { buildSnapshot } from '../../load/snapshot.ts';
import { auditOf, findingsOf } from '../../testing/audit.ts';
import type { AuditConfig } from '../config.ts';
import type { Finding } from '../types.ts';

// Fixtures are small clusters written as YAML; expected lines are looked up in the text, so editing a
// fixture cannot silently make a line assertion point elsewhere.

function namespace(name: string, labels: Record<string, string> = {}): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${JSON.stringify(labels)}}\n`;
}

function deployment(
  ns: string,
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): string {
  const all = JSON.stringify({ app: name, ...labels });
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: ${all}, annotations: ${JSON.stringify(annotations)}}
    spec: {containers: [{name: main, image: app}]}
`;
}

/** `spec` is written at column 0; it is indented under `spec:` here. */
function policy(ns: string, name: string, spec: string): string {
  const body = spec
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${body}\n`;
}

function cluster(...documents: string[]): string {
  return documents.join('---\n');
}

/** 1-based line of the first line containing `needle` (at or after the line containing `after`). */
function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n');
  const start = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  const index = lines.findIndex((l, i) => i >= start && l.includes(needle));
  assert.ok(index >= 0, `fixture has no line with ${needle}`);
  return index + 1;
}

function only(text: string, id: string, config: Partial<AuditConfig> = {}): Finding[] {
  return findingsOf(auditOf(text, config), id);
}

function assertPass(findings: Finding[]): void {
  assert.deepEqual(
    findings.map((f) => f.status),
    ['pass'],
    JSON.stringify(findings, null, 1),
  );
}

function single(findings: Finding[]): Finding {
  assert.equal(findings.length, 1, JSON.stringify(findings, null, 1));
  return findings[0] as Finding;
}

interface Manifest {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
}

/** Remediation YAML must be one or more valid Kubernetes objects; returns the first. */
function parsedRemediation(finding: Finding): Manifest {
  const yaml = finding.remediation?.yaml;
  assert.ok(yaml, 'the finding carries a remediation YAML');
  const documents = parseAllDocuments(yaml);
  for (const document of documents) assert.deepEqual(document.errors, []);
  const first = documents[0]?.toJS() as Manifest | undefined;
  assert.ok(first);
  return first;
}

const PHI_NS = namespace('records', { 'data-classification': 'phi' });
const WEB_NS = namespace('web');
const API = deployment('records', 'api');
const FRONTEND = deployment('web', 'frontend');
const DENY_ALL = policy('records', 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
const WEB_DENY = policy('web', 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
const API_ID = 'records/api[Deployment]';
const FRONTEND_ID = 'web/frontend[Deployment]';

/** The api accepts TCP 8080 from the frontend's namespace, named by the immutable name label. */
const FROM_WEB = policy(
  'records',
  'api-from-web',
  `podSelector: {matchLabels: {app: api}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}
    ports: [{port: 8080}]`,
);

describe('HIPAA-NP-001 PHI workloads are identified', () => {
  test('passes when a namespace label marks PHI', () => {
    assertPass(only(cluster(PHI_NS, API), 'HIPAA-NP-001'));
  });

  test('passes with a prefixed label key on the pod template', () => {
    const text = cluster(WEB_NS, deployment('web', 'db', { 'example.com/data-classification': 'ephi' }));
    assertPass(only(text, 'HIPAA-NP-001'));
  });

  test('fails when nothing carries a PHI label, and says what to label', () => {
    const finding = single(only(cluster(WEB_NS, FRONTEND), 'HIPAA-NP-001'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, []);
    assert.ok(finding.evidence.notes?.some((n) => n.includes('not assessable')));
    assert.ok(finding.evidence.notes?.some((n) => n.includes('data-classification: phi')));
    assert.match(finding.remediation?.text ?? '', /data-classification: phi/);
  });

  test('needs review for a workload marked only by an annotation', () => {
    const marked = deployment('web', 'uploads', {}, { 'data-classification': 'phi' });
    const text = cluster(PHI_NS, API, WEB_NS, marked);
    const finding = single(only(text, 'HIPAA-NP-001'));
    assert.equal(finding.status, 'needs-review');
    assert.deepEqual(finding.objects, ['web/uploads[Deployment]']);
    assert.match(finding.evidence.notes?.[0] ?? '', /only as an annotation/);
    assert.deepEqual(finding.location, { file: 'cluster.yaml', line: lineOf(text, 'name: uploads') - 2 });
  });

  test('fails, and also flags the annotation, when the only marker is an annotation', () => {
    const text = cluster(WEB_NS, deployment('web', 'uploads', {}, { 'data-classification': 'phi' }));
    const findings = only(text, 'HIPAA-NP-001');
    assert.deepEqual(findings.map((f) => f.status).sort(), ['fail', 'needs-review']);
  });
});

describe('HIPAA-NP-004 namespaces do not mix PHI and non-PHI workloads', () => {
  test('passes when the whole namespace is PHI', () => {
    assertPass(only(cluster(PHI_NS, API, deployment('records', 'worker')), 'HIPAA-NP-004'));
  });

  test('fails for a namespace holding a PHI and a non-PHI workload', () => {
    const text = cluster(
      namespace('mixed'),
      deployment('mixed', 'db', { 'data-classification': 'phi' }),
      deployment('mixed', 'blog'),
    );
    const finding = single(only(text, 'HIPAA-NP-004'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, ['mixed']);
    assert.deepEqual(finding.evidence.notes, [
      'PHI: mixed/db[Deployment] (pod label data-classification=phi)',
      'not PHI: mixed/blog[Deployment]',
    ]);
    assert.equal(finding.location?.line, lineOf(text, 'name: blog') - 2);
  });
});

describe('HIPAA-NP-005 PHI workloads are ingress-isolated', () => {
  test('passes under a default-deny', () => {
    assertPass(only(cluster(PHI_NS, API, DENY_ALL), 'HIPAA-NP-005'));
  });

  test('fails when only an Egress policy selects the workload; the remediation isolates it', () => {
    const egressOnly = policy('records', 'egress-only', 'podSelector: {}\npolicyTypes: [Egress]');
    const text = cluster(PHI_NS, API, egressOnly);
    const finding = single(only(text, 'HIPAA-NP-005'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, [API_ID]);
    assert.ok(finding.evidence.edges?.includes(`0.0.0.0/0,::/0 -> ${API_ID} all ports`));
    assert.match(finding.evidence.notes?.[0] ?? '', /no NetworkPolicy in records selects .* for Ingress/);
    assert.equal(finding.location?.line, lineOf(text, 'name: api') - 2);
    const fix = parsedRemediation(finding);
    assert.deepEqual(fix.spec.podSelector, { matchLabels: { app: 'api' } });
    assertPass(only(cluster(text, finding.remediation?.yaml ?? ''), 'HIPAA-NP-005'));
  });
});

describe('HIPAA-NP-006 PHI workloads are egress-isolated', () => {
  test('passes under a default-deny', () => {
    assertPass(only(cluster(PHI_NS, API, DENY_ALL), 'HIPAA-NP-006'));
  });

  test('fails with only an ingress policy; the DNS-only egress remediation fixes it', () => {
    const ingressOnly = policy('records', 'deny-ingress', 'podSelector: {}\npolicyTypes: [Ingress]');
    const text = cluster(PHI_NS, API, WEB_NS, FRONTEND, ingressOnly);
    const finding = single(only(text, 'HIPAA-NP-006'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, [API_ID]);
    assert.ok(finding.evidence.edges?.includes(`${API_ID} -> ${FRONTEND_ID} all ports`));
    assert.ok(finding.evidence.edges?.includes(`${API_ID} -> 0.0.0.0/0,::/0 all ports`));
    parsedRemediation(finding);
    const fixed = auditOf(cluster(text, finding.remediation?.yaml ?? ''));
    assertPass(findingsOf(fixed, 'HIPAA-NP-006'));
  });
});

describe('HIPAA-NP-007 PHI namespaces have a default-deny', () => {
  test('passes with one policy per direction (equivalent to one default-deny)', () => {
    const text = cluster(
      PHI_NS,
      API,
      policy('records', 'deny-in', 'podSelector: {}\npolicyTypes: [Ingress]'),
      policy('records', 'deny-out', 'podSelector: {}\npolicyTypes: [Egress]'),
    );
    assertPass(only(text, 'HIPAA-NP-007'));
  });

  test('fails when only ingress is denied, citing it; the default-deny remediation fixes it', () => {
    const denyIn = policy('records', 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress]');
    const text = cluster(PHI_NS, API, denyIn);
    const finding = single(only(text, 'HIPAA-NP-007'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, ['records']);
    const line = lineOf(text, 'name: default-deny') - 2;
    assert.ok(
      finding.evidence.notes?.includes(
        `ingress denied by default by records/default-deny (cluster.yaml:${line})`,
      ),
    );
    assert.ok(
      finding.evidence.notes?.includes('no policy with podSelector {} denies egress by default in records'),
    );
    assert.deepEqual(finding.location, { file: 'cluster.yaml', line });
    // The existing name is taken, so the fix can be applied next to it.
    const fix = parsedRemediation(finding);
    assert.equal(fix.metadata.name, 'default-deny-2');
    assertPass(only(cluster(text, finding.remediation?.yaml ?? ''), 'HIPAA-NP-007'));
  });

  test('fails for an all-pods policy that has allow rules', () => {
    const broad = policy('records', 'allow-all-in', 'podSelector: {}\ningress: [{}]\negress: [{}]');
    const finding = single(only(cluster(PHI_NS, API, broad), 'HIPAA-NP-007'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(parsedRemediation(finding).spec, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
  });
});

describe('HIPAA-NP-008 every namespace has a NetworkPolicy', () => {
  test('passes when every non-excluded namespace has one (kube-system is excluded)', () => {
    const text = cluster(PHI_NS, API, DENY_ALL, namespace('kube-system'), deployment('kube-system', 'dns'));
    assertPass(only(text, 'HIPAA-NP-008'));
  });

  test('fails per namespace without a policy; the remediation fixes it', () => {
    const text = cluster(PHI_NS, API, DENY_ALL, WEB_NS, FRONTEND, namespace('empty'));
    const findings = only(text, 'HIPAA-NP-008');
    assert.deepEqual(
      findings.map((f) => [f.status, f.objects]),
      [
        ['fail', ['empty']],
        ['fail', ['web']],
      ],
    );
    const web = findings[1] as Finding;
    assert.match(web.evidence.notes?.[0] ?? '', /web\/frontend\[Deployment\]/);
    assert.equal(web.location?.line, lineOf(text, 'name: frontend') - 2);
    const fixes = findings.map((f) => f.remediation?.yaml ?? '');
    assertPass(only(cluster(text, ...fixes), 'HIPAA-NP-008'));
  });

  test('honours excludedNamespaces from the config', () => {
    const text = cluster(PHI_NS, API, DENY_ALL, WEB_NS, FRONTEND);
    assertPass(only(text, 'HIPAA-NP-008', { excludedNamespaces: ['web'] }));
  });
});

describe('HIPAA-NP-009 PHI workloads do not accept ingress from every address', () => {
  test('passes for a narrow ipBlock and a named namespace', () => {
    const narrow = policy(
      'records',
      'api-from-partner',
      `podSelector: {matchLabels: {app: api}}
ingress:
  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]
    ports: [{port: 443}]`,
    );
    assertPass(only(cluster(PHI_NS, API, WEB_NS, FRONTEND, DENY_ALL, narrow, FROM_WEB), 'HIPAA-NP-009'));
  });

  test('fails for 0.0.0.0/0 on one port, citing the rule; replacing it with the remediation fixes it', () => {
    const world = policy(
      'records',
      'api-from-world',
      `podSelector: {matchLabels: {app: api}}
ingress:
  - ports: [{port: 443}]
    from: [{ipBlock: {cidr: 0.0.0.0/0}}]`,
    );
    const text = cluster(PHI_NS, API, DENY_ALL, world);
    const finding = single(only(text, 'HIPAA-NP-009'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, [API_ID]);
    assert.ok(finding.evidence.edges?.includes(`0.0.0.0/0 -> ${API_ID} TCP 443`));
    assert.ok(finding.evidence.notes?.includes('accepts ingress from every public IPv4 address on TCP 443'));
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/api-from-world#spec.ingress[0]',
        at: `cluster.yaml:${lineOf(text, '- ports: [{port: 443}]', 'api-from-world')}`,
      },
    ]);
    assert.equal(finding.location?.line, lineOf(text, 'name: api-from-world') - 2);
    parsedRemediation(finding);
    assertPass(only(cluster(PHI_NS, API, DENY_ALL, finding.remediation?.yaml ?? ''), 'HIPAA-NP-009'));
  });

  test('fails when every address but private ranges is admitted', () => {
    const almost = policy(
      'records',
      'api-public',
      `podSelector: {}
ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 192.168.0.0/16]}}]`,
    );
    const finding = single(only(cluster(PHI_NS, API, DENY_ALL, almost), 'HIPAA-NP-009'));
    assert.equal(finding.status, 'fail');
    assert.equal(finding.evidence.rules?.[0]?.rule, 'records/api-public#spec.ingress[0]');
  });

  test('fails for a workload without ingress isolation', () => {
    const finding = single(only(cluster(PHI_NS, API), 'HIPAA-NP-009'));
    assert.ok(
      finding.evidence.notes?.includes('accepts ingress from every public IPv4 address on all ports'),
    );
    assert.ok(
      finding.evidence.notes?.includes('accepts ingress from every public IPv6 address on all ports'),
    );
    assert.ok(finding.evidence.notes?.some((n) => n.startsWith('not ingress-isolated')));
  });

  test('fails for every pod of every namespace, citing the peer', () => {
    const text = cluster(
      PHI_NS,
      API,
      WEB_NS,
      FRONTEND,
      DENY_ALL,
      policy(
        'records',
        'api-from-cluster',
        `podSelector: {matchLabels: {app: api}}
ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: 8443}]`,
      ),
    );
    const finding = single(only(text, 'HIPAA-NP-009'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/api-from-cluster#spec.ingress[0].from[0]',
        at: `cluster.yaml:${lineOf(text, '- from: [{namespaceSelector: {}}]')}`,
      },
    ]);
    assert.deepEqual(finding.evidence.edges, [`${FRONTEND_ID} -> ${API_ID} TCP 8443`]);
  });
});

describe('HIPAA-NP-010 PHI workloads do not accept ingress from every namespace', () => {
  test('passes when namespaces are named', () => {
    assertPass(only(cluster(PHI_NS, API, WEB_NS, FRONTEND, DENY_ALL, FROM_WEB), 'HIPAA-NP-010'));
  });

  test('fails for namespaceSelector {} with a podSelector (009 does not: not every pod)', () => {
    const scrape = policy(
      'records',
      'api-scrape',
      `podSelector: {matchLabels: {app: api}}
ingress:
  - from:
      - namespaceSelector: {}
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9090}]`,
    );
    const prometheus = deployment('web', 'prometheus');
    const text = cluster(PHI_NS, API, WEB_NS, prometheus, DENY_ALL, scrape);
    const audit = auditOf(text);
    assertPass(findingsOf(audit, 'HIPAA-NP-009'));
    const finding = single(findingsOf(audit, 'HIPAA-NP-010'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, [API_ID]);
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/api-scrape#spec.ingress[0].from[0]',
        at: `cluster.yaml:${lineOf(text, '- from:', 'api-scrape')}`,
      },
    ]);
    assert.deepEqual(finding.evidence.edges, [`web/prometheus[Deployment] -> ${API_ID} TCP 9090`]);
    assert.match(
      finding.evidence.notes?.[0] ?? '',
      /pods matching its podSelector of every namespace, including namespaces created later/,
    );
    const fixed = cluster(PHI_NS, API, WEB_NS, prometheus, DENY_ALL, finding.remediation?.yaml ?? '');
    parsedRemediation(finding);
    assertPass(only(fixed, 'HIPAA-NP-010'));
  });

  test('fails for a deny-list (NotIn) selector, which any new namespace satisfies', () => {
    const notIn = policy(
      'records',
      'api-not-dev',
      `podSelector: {}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [dev]}]`,
    );
    const audit = auditOf(cluster(PHI_NS, API, DENY_ALL, notIn));
    const finding = single(findingsOf(audit, 'HIPAA-NP-010'));
    assert.equal(finding.status, 'fail');
    assert.equal(finding.evidence.rules?.[0]?.rule, 'records/api-not-dev#spec.ingress[0].from[0]');
    assert.match(
      finding.evidence.notes?.[0] ?? '',
      /does not exclude, so of any new namespace created without labels/,
    );
    // Not literally every namespace, so not the critical 009.
    assertPass(findingsOf(audit, 'HIPAA-NP-009'));
  });
});

describe('HIPAA-NP-011 only allowed namespaces reach PHI', () => {
  const text = cluster(PHI_NS, API, WEB_NS, FRONTEND, DENY_ALL, WEB_DENY, FROM_WEB);

  test('fails for a namespace outside allowedIngressNamespaces, with edge and rule', () => {
    // The frontend's own default-deny would block its egress; allow it so the edge exists.
    const egress = policy('web', 'frontend-out', 'podSelector: {}\negress: [{}]');
    const withEgress = cluster(text, egress);
    const finding = single(only(withEgress, 'HIPAA-NP-011'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, ['web']);
    assert.deepEqual(finding.evidence.edges, [`${FRONTEND_ID} -> ${API_ID} TCP 8080`]);
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/api-from-web#spec.ingress[0]',
        at: `cluster.yaml:${lineOf(withEgress, '- from:', 'api-from-web')}`,
      },
    ]);
    assert.equal(finding.location?.line, lineOf(withEgress, 'name: api-from-web') - 2);
    // Replacing the responsible policy with the remediation removes the path.
    const fixed = cluster(
      PHI_NS,
      API,
      WEB_NS,
      FRONTEND,
      DENY_ALL,
      WEB_DENY,
      egress,
      finding.remediation?.yaml ?? '',
    );
    assertPass(only(fixed, 'HIPAA-NP-011'));
  });

  test('passes when the namespace is allowed, or when nothing reaches PHI', () => {
    const egress = policy('web', 'frontend-out', 'podSelector: {}\negress: [{}]');
    assertPass(only(cluster(text, egress), 'HIPAA-NP-011', { allowedIngressNamespaces: ['web'] }));
    assertPass(only(text, 'HIPAA-NP-011'));
  });

  test('the remediation admits the approvedFlows sources on their ports and the PHI callers, never a whole namespace', () => {
    // No policies: web/frontend, ops/tool and the PHI records/worker all reach the api on every port.
    const OPS_NS = namespace('ops');
    const TOOL = deployment('ops', 'tool');
    const WORKER = deployment('records', 'worker');
    const config: Partial<AuditConfig> = {
      allowedIngressNamespaces: ['ingress-nginx', 'ops'],
      approvedFlows: [{ from: 'ops/tool', to: 'records/api', port: 8443, protocol: 'TCP' }],
    };
    const open = cluster(PHI_NS, API, WORKER, WEB_NS, FRONTEND, OPS_NS, TOOL);
    const finding = single(only(open, 'HIPAA-NP-011', config));
    assert.deepEqual(finding.objects, ['web']);
    const fixes = parseAllDocuments(finding.remediation?.yaml ?? '').map((d) => d.toJS() as Manifest);
    const fix = fixes.find(
      (m) => (m.spec.podSelector as { matchLabels: { app: string } }).matchLabels.app === 'api',
    );
    assert.ok(fix, finding.remediation?.yaml);
    // By hand: the approved tool on TCP 8443 only, selected by namespace name and its controller's selector;
    // the PHI worker on what it reaches now (every port); ingress-nginx and web nowhere.
    assert.deepEqual(fix.spec, {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } },
              podSelector: { matchLabels: { app: 'tool' } },
            },
          ],
          ports: [{ protocol: 'TCP', port: 8443 }],
        },
        {
          from: [{ podSelector: { matchLabels: { app: 'worker' } } }],
          ports: [{ protocol: 'TCP' }, { protocol: 'UDP' }, { protocol: 'SCTP' }],
        },
      ],
    });
    assert.doesNotMatch(finding.remediation?.text ?? '', /ingress-nginx/);
    // Applied, web no longer reaches PHI and the approved flow still flows.
    const fixed = auditOf(cluster(open, finding.remediation?.yaml ?? ''), config);
    assertPass(findingsOf(fixed, 'HIPAA-NP-011'));
    const into = computeConnectivity(
      new Engine(
        buildSnapshot([{ path: 'fixed.yaml', text: cluster(open, finding.remediation?.yaml ?? '') }]),
        DEFAULT_OPTIONS,
      ),
      { focus: API_ID },
    ).filter((c) => 'workload' in c.dst && c.dst.workload === API_ID);
    assert.deepEqual(
      into.map((c) => ['workload' in c.src ? c.src.workload : '', c.ports.TCP, c.ports.UDP]),
      [
        ['ops/tool[Deployment]', [[8443, 8443]], []],
        ['records/worker[Deployment]', [[1, 65535]], [[1, 65535]]],
      ],
    );
  });
});

describe('HIPAA-NP-012 every flow into PHI is approved', () => {
  const twoPorts = policy(
    'records',
    'api-from-web',
    `podSelector: {matchLabels: {app: api}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}
    ports: [{port: 8080}, {port: 9090}]`,
  );
  const text = cluster(PHI_NS, API, deployment('records', 'worker'), WEB_NS, FRONTEND, DENY_ALL, twoPorts);

  test('needs review for each edge while approvedFlows is empty', () => {
    const finding = single(only(text, 'HIPAA-NP-012'));
    assert.equal(finding.status, 'needs-review');
    assert.deepEqual(finding.objects, [FRONTEND_ID, API_ID]);
    assert.deepEqual(finding.evidence.edges, [`${FRONTEND_ID} -> ${API_ID} TCP 8080,9090`]);
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/api-from-web#spec.ingress[0]',
        at: `cluster.yaml:${lineOf(text, '- from:', 'api-from-web')}`,
      },
    ]);
    assert.equal(
      finding.remediation?.yaml,
      'approvedFlows:\n' +
        '  - {from: web/frontend, to: records/api, port: 8080, protocol: TCP}\n' +
        '  - {from: web/frontend, to: records/api, port: 9090, protocol: TCP}\n',
    );
    parsedRemediation(finding);
  });

  test('fails for the ports no approved flow covers', () => {
    const finding = single(
      only(text, 'HIPAA-NP-012', {
        approvedFlows: [{ from: 'web/frontend', to: 'records/api', port: 8080, protocol: 'TCP' }],
      }),
    );
    assert.equal(finding.status, 'fail');
    assert.ok(finding.evidence.notes?.includes('not approved: TCP 9090 (no approvedFlows entry covers it)'));
  });

  test('passes when approved flows cover every port, named with or without the kind', () => {
    assertPass(
      only(text, 'HIPAA-NP-012', {
        approvedFlows: [
          { from: 'web/frontend[Deployment]', to: 'records/api', port: 8080, protocol: 'TCP' },
          { from: 'web/frontend', to: 'records/api[Deployment]', port: 9090, protocol: 'TCP' },
        ],
      }),
    );
  });
});

describe('HIPAA-NP-028 no broad allow in PHI namespaces', () => {
  test('fails for podSelector {} admitting traffic, citing the rule', () => {
    const broad = policy(
      'records',
      'allow-web',
      `podSelector: {}
ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}]`,
    );
    const text = cluster(PHI_NS, API, WEB_NS, FRONTEND, DENY_ALL, broad);
    const finding = single(only(text, 'HIPAA-NP-028'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, ['records/allow-web']);
    assert.deepEqual(finding.evidence.rules, [
      {
        rule: 'records/allow-web#spec.ingress[0]',
        at: `cluster.yaml:${lineOf(text, '- from:', 'allow-web')}`,
      },
    ]);
    assert.deepEqual(finding.evidence.edges, [`${FRONTEND_ID} -> ${API_ID} all ports`]);
    assert.equal(finding.location?.line, lineOf(text, 'name: allow-web') - 2);
  });

  test('passes for default-deny, namespace-wide DNS and a peer that selects nothing', () => {
    const dns = policy(
      'records',
      'dns',
      `podSelector: {}
egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]`,
    );
    // Judged on computed traffic, not shape: this rule admits no existing workload.
    const typo = policy(
      'records',
      'allow-typo',
      `podSelector: {}
ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: wbe}}}]`,
    );
    const coredns = deployment('kube-system', 'coredns', { 'k8s-app': 'kube-dns' });
    const text = cluster(
      PHI_NS,
      API,
      namespace('kube-system'),
      coredns,
      WEB_NS,
      FRONTEND,
      DENY_ALL,
      dns,
      typo,
    );
    assertPass(only(text, 'HIPAA-NP-028'));
  });
});
