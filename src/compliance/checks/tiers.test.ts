import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { buildSnapshot } from '../../load/snapshot.ts';
import { auditOf, findingsOf } from '../../testing/audit.ts';
import { yaml } from '../../testing/yaml.ts';
import type { AuditConfig } from '../config.ts';
import type { Finding } from '../types.ts';

// The checks with AdminNetworkPolicies, BaselineAdminNetworkPolicies and ClusterNetworkPolicies in the
// input: the Admin tier before NetworkPolicies, the Baseline tier after them. Clusters are YAML; lines
// asserted are looked up in the text.

const API = 'records/api[Deployment]';

const WORKLOADS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: {name: records, labels: {data-classification: phi}}
  ---
  apiVersion: v1
  kind: Namespace
  metadata: {name: web}
  ---
  apiVersion: v1
  kind: Namespace
  metadata: {name: monitoring}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: api, namespace: records}
  spec:
    selector: {matchLabels: {app: api}}
    template:
      metadata: {labels: {app: api}}
      spec: {containers: [{name: main, image: api, ports: [{containerPort: 8443}]}]}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: ui, namespace: web}
  spec:
    selector: {matchLabels: {app: ui}}
    template:
      metadata: {labels: {app: ui}}
      spec: {containers: [{name: main, image: ui}]}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: prom, namespace: monitoring}
  spec:
    selector: {matchLabels: {app: prom}}
    template:
      metadata: {labels: {app: prom}}
      spec: {containers: [{name: main, image: prom}]}
`;

/** The brief's guardrail: PHI namespaces among themselves (`first` is its action), everyone else denied. */
function guardrail(
  first: 'Allow' | 'Pass',
  from = '{namespaces: {matchLabels: {data-classification: phi}}}',
) {
  return yaml`
    ---
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: AdminNetworkPolicy
    metadata: {name: phi-guardrail}
    spec:
      priority: 10
      subject: {namespaces: {matchLabels: {data-classification: phi}}}
      ingress:
      - name: allow-phi
        action: ${first}
        from: [${from}]
      - name: deny-rest
        action: Deny
        from: [{namespaces: {}}]
  `;
}

/** A cluster-wide default deny in the Baseline tier; `egressPeers` is its egress peer list. */
function baselineDeny(
  egressPeers = '[{namespaces: {}}, {networks: [0.0.0.0/0, "::/0"]}]',
  subject = '{namespaces: {}}',
) {
  return yaml`
    ---
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: BaselineAdminNetworkPolicy
    metadata: {name: default}
    spec:
      subject: ${subject}
      ingress:
      - name: deny-all-ingress
        action: Deny
        from: [{namespaces: {}}]
      egress:
      - name: deny-all-egress
        action: Deny
        to: ${egressPeers}
  `;
}

function networkPolicy(namespace: string, name: string, spec: string): string {
  const body = spec
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${body}\n`;
}

function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n');
  const start = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  const index = lines.findIndex((l, i) => i >= start && l.includes(needle));
  assert.ok(index >= 0, `fixture has no line with ${needle}`);
  return index + 1;
}

function run(text: string, id: string, config: Partial<AuditConfig> = {}): Finding[] {
  const snapshot = buildSnapshot([{ path: 'cluster.yaml', text }]);
  assert.deepEqual(
    snapshot.warnings.filter((w) => w.severity === 'error'),
    [],
    'the fixture loads without errors',
  );
  return findingsOf(auditOf(text, config), id);
}

function single(findings: Finding[]): Finding {
  assert.equal(findings.length, 1, JSON.stringify(findings, null, 1));
  return findings[0] as Finding;
}

const notes = (f: Finding) => (f.evidence.notes ?? []).join('\n');
const rules = (f: Finding) => (f.evidence.rules ?? []).map((r) => `${r.rule} @ ${r.at}`);

describe('HIPAA-NP-033 PHI namespaces protected by an Admin-tier guardrail', () => {
  test('passes with the guardrail named when the Admin tier denies every non-PHI source', () => {
    const text = WORKLOADS + guardrail('Allow');
    const finding = single(run(text, 'HIPAA-NP-033'));
    assert.equal(finding.status, 'pass');
    assert.equal(finding.severity, 'info');
    assert.deepEqual(finding.hipaa, ['164.312(a)(1)', '164.308(a)(4)']);
    assert.deepEqual(finding.objects, ['records']);
    const denyLine = lineOf(text, 'name: deny-rest');
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/phi-guardrail ingress[1] "deny-rest" (Deny) @ cluster.yaml:${denyLine}`,
    ]);
    assert.match(
      notes(finding),
      /denies ingress to every PHI workload of records \(records\/api\[Deployment\]\)/,
    );
    assert.match(notes(finding), /namespaces created later included.*AdminNetworkPolicy\/phi-guardrail/);
    assert.deepEqual(finding.location, { file: 'cluster.yaml', line: denyLine });
  });

  test('a ClusterNetworkPolicy in the Admin tier is a guardrail too', () => {
    const text =
      WORKLOADS +
      yaml`
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: phi-fence}
        spec:
          tier: Admin
          priority: 3
          subject: {namespaces: {matchLabels: {data-classification: phi}}}
          ingress:
          - name: deny-others
            action: Deny
            from: [{namespaces: {matchExpressions: [{key: data-classification, operator: NotIn, values: [phi]}]}}]
          - name: deny-unlabelled
            action: Deny
            from: [{namespaces: {}}]
      `;
    const finding = single(run(text, 'HIPAA-NP-033'));
    assert.equal(finding.status, 'pass');
    assert.ok(rules(finding).some((r) => r.startsWith('ClusterNetworkPolicy/phi-fence ingress[')));
  });

  test('needs review, saying no Admin-tier policy selects it, without cluster policies; the ANP offered fixes it', () => {
    const finding = single(run(WORKLOADS, 'HIPAA-NP-033'));
    assert.equal(finding.status, 'needs-review');
    assert.deepEqual(finding.objects, ['records']);
    assert.equal(finding.evidence.rules, undefined);
    assert.match(
      notes(finding),
      /no Admin-tier policy \(an AdminNetworkPolicy, or a ClusterNetworkPolicy with tier Admin\) selects the PHI workloads of records/,
    );
    const manifest = finding.remediation?.yaml ?? '';
    for (const document of parseAllDocuments(manifest)) assert.deepEqual(document.errors, []);
    // Applied as offered, the guardrail makes the check pass.
    const fixed = single(run(`${WORKLOADS}---\n${manifest}`, 'HIPAA-NP-033'));
    assert.equal(fixed.status, 'pass', JSON.stringify(fixed, null, 1));
    assert.match(notes(fixed), /AdminNetworkPolicy\/phi-guardrail-records/);
  });

  test('a guardrail whose Pass hands non-PHI sources back to NetworkPolicy is not a guardrail', () => {
    const text = WORKLOADS + guardrail('Pass', '{namespaces: {}}');
    const finding = single(run(text, 'HIPAA-NP-033'));
    assert.equal(finding.status, 'needs-review');
    const passLine = lineOf(text, 'name: allow-phi');
    assert.ok(
      rules(finding).includes(
        `AdminNetworkPolicy/phi-guardrail ingress[0] "allow-phi" (Pass) @ cluster.yaml:${passLine}`,
      ),
    );
    assert.match(
      notes(finding),
      /records\/api\[Deployment\]: from web\/ui\[Deployment\] on all ports: passed to NetworkPolicy by AdminNetworkPolicy\/phi-guardrail ingress\[0\] "allow-phi"/,
    );
    assert.match(notes(finding), /may pass pods of a namespace created later to NetworkPolicy/);
  });

  test('a Pass for the PHI namespaces only keeps the guardrail', () => {
    const finding = single(run(WORKLOADS + guardrail('Pass'), 'HIPAA-NP-033'));
    assert.equal(finding.status, 'pass');
  });

  test('an Admin-tier Allow for a non-PHI namespace is a gap unless allowedIngressNamespaces approves it', () => {
    const text =
      WORKLOADS +
      yaml`
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: phi-guardrail}
        spec:
          priority: 10
          subject: {namespaces: {matchLabels: {data-classification: phi}}}
          ingress:
          - name: allow-monitoring
            action: Allow
            from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
          - name: deny-rest
            action: Deny
            from: [{namespaces: {}}]
      `;
    const open = single(run(text, 'HIPAA-NP-033'));
    assert.equal(open.status, 'needs-review');
    assert.match(
      notes(open),
      /from monitoring\/prom\[Deployment\] on all ports: allowed by AdminNetworkPolicy\/phi-guardrail ingress\[0\] "allow-monitoring" \(cluster\.yaml:\d+\), not denied/,
    );
    const approved = single(run(text, 'HIPAA-NP-033', { allowedIngressNamespaces: ['monitoring'] }));
    assert.equal(approved.status, 'pass');
    assert.match(notes(approved), /allowedIngressNamespaces \(monitoring\) are not held to the guardrail/);
  });

  test('a guardrail that selects only some PHI workloads names the ones it leaves out', () => {
    const db = yaml`
      ---
      apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: db, namespace: records}
      spec:
        selector: {matchLabels: {app: db}}
        template:
          metadata: {labels: {app: db}}
          spec: {containers: [{name: main, image: db}]}
    `;
    const text =
      WORKLOADS +
      db +
      guardrail('Allow').replace(
        'subject: {namespaces: {matchLabels: {data-classification: phi}}}',
        'subject: {pods: {namespaceSelector: {matchLabels: {data-classification: phi}}, podSelector: {matchLabels: {app: api}}}}',
      );
    const finding = single(run(text, 'HIPAA-NP-033'));
    assert.equal(finding.status, 'needs-review');
    assert.match(
      notes(finding),
      /the Admin tier selects PHI workloads of records \(AdminNetworkPolicy\/phi-guardrail at cluster\.yaml:\d+\)/,
    );
    assert.match(
      notes(finding),
      /records\/db\[StatefulSet\]: no Admin-tier policy with ingress rules selects it/,
    );
    assert.doesNotMatch(notes(finding), /records\/api\[Deployment\]:/);
    assert.equal(finding.evidence.rules?.length, 2);
  });

  test('a Baseline-tier deny is no guardrail: NetworkPolicies come first', () => {
    const finding = single(run(WORKLOADS + baselineDeny(), 'HIPAA-NP-033'));
    assert.equal(finding.status, 'needs-review');
    assert.match(notes(finding), /no Admin-tier policy/);
  });
});

describe('HIPAA-NP-005/006 isolation by the Admin and Baseline tiers', () => {
  test('a Baseline deny-all isolates both ways: pass, naming the rules', () => {
    const text = WORKLOADS + baselineDeny();
    const ingress = single(run(text, 'HIPAA-NP-005'));
    assert.equal(ingress.status, 'pass');
    assert.deepEqual(ingress.objects, [API]);
    assert.deepEqual(rules(ingress), [
      `BaselineAdminNetworkPolicy/default ingress[0] "deny-all-ingress" (Deny) @ cluster.yaml:${lineOf(text, 'deny-all-ingress')}`,
    ]);
    assert.match(
      notes(ingress),
      /no NetworkPolicy selects records\/api\[Deployment\] for Ingress; the Admin\/Baseline tier isolates it/,
    );
    assert.match(notes(ingress), /cannot name sources outside the cluster/);
    const egress = single(run(text, 'HIPAA-NP-006'));
    assert.equal(egress.status, 'pass');
    assert.deepEqual(rules(egress), [
      `BaselineAdminNetworkPolicy/default egress[0] "deny-all-egress" (Deny) @ cluster.yaml:${lineOf(text, 'deny-all-egress')}`,
    ]);
  });

  test('egress denied to pods only leaves the internet open: not egress-isolated', () => {
    const text = WORKLOADS + baselineDeny('[{namespaces: {}}]');
    const finding = single(run(text, 'HIPAA-NP-006'));
    assert.equal(finding.status, 'fail');
    assert.match(notes(finding), /the Admin\/Baseline-tier rules that select it do not deny by default/);
    assert.match(
      notes(finding),
      /no Deny rule \(networks, all ports\) covers 0\.0\.0\.0\/0, ::\/0: allowed by default/,
    );
    assert.ok(rules(finding).some((r) => r.startsWith('BaselineAdminNetworkPolicy/default egress[0]')));
    assert.ok(finding.remediation?.yaml?.includes('policyTypes: [Egress]'));
  });

  test('a deny for some namespaces is not isolation', () => {
    const text =
      WORKLOADS +
      yaml`
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: no-web}
        spec:
          priority: 20
          subject: {namespaces: {}}
          ingress:
          - name: deny-web
            action: Deny
            from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: web}}}]
      `;
    const finding = single(run(text, 'HIPAA-NP-005'));
    assert.equal(finding.status, 'fail');
    assert.match(
      notes(finding),
      /no Deny rule for every pod of every namespace \(a namespaces: \{\} peer, all ports\)/,
    );
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/no-web ingress[0] "deny-web" (Deny) @ cluster.yaml:${lineOf(text, 'deny-web')}`,
    ]);
    // The edge from web is gone; monitoring still reaches the API.
    assert.deepEqual(
      finding.evidence.edges?.filter((e) => !e.startsWith('0.0.0.0')),
      [`monitoring/prom[Deployment] -> ${API} all ports`],
    );
  });

  test('an Admin Pass before the Admin deny is a hole, closed by a Baseline deny', () => {
    const open = single(run(WORKLOADS + guardrail('Pass', '{namespaces: {}}'), 'HIPAA-NP-005'));
    assert.equal(open.status, 'fail');
    assert.match(
      notes(open),
      /ingress\[0\] "allow-phi" \(cluster\.yaml:\d+\) passes traffic from a pod of a namespace created later to NetworkPolicy, which does not isolate it, and no Baseline-tier Deny catches it/,
    );
    // The Pass takes every pod, so deny-rest is never reached: the Baseline deny is what isolates.
    const closed = single(
      run(WORKLOADS + guardrail('Pass', '{namespaces: {}}') + baselineDeny(), 'HIPAA-NP-005'),
    );
    assert.equal(closed.status, 'pass');
    assert.deepEqual(
      closed.evidence.rules?.map((r) => r.rule),
      ['BaselineAdminNetworkPolicy/default ingress[0] "deny-all-ingress" (Deny)'],
    );
    // With the Pass for some namespaces only, both denies take part.
    const both = single(
      run(
        WORKLOADS +
          guardrail('Pass', '{namespaces: {matchExpressions: [{key: team, operator: DoesNotExist}]}}') +
          baselineDeny(),
        'HIPAA-NP-005',
      ),
    );
    assert.equal(both.status, 'pass');
    assert.deepEqual(
      both.evidence.rules?.map((r) => r.rule),
      [
        'AdminNetworkPolicy/phi-guardrail ingress[1] "deny-rest" (Deny)',
        'BaselineAdminNetworkPolicy/default ingress[0] "deny-all-ingress" (Deny)',
      ],
    );
  });

  test('a Pass for existing namespaces only is found by the engine', () => {
    // Nothing about a future namespace is passed, but web's pods are, and nothing denies them later.
    const text =
      WORKLOADS + guardrail('Pass', '{namespaces: {matchLabels: {kubernetes.io/metadata.name: web}}}');
    const finding = single(run(text, 'HIPAA-NP-005'));
    assert.equal(finding.status, 'fail');
    assert.match(
      notes(finding),
      /from web\/ui\[Deployment\] on all ports: allowed by default, handed on by AdminNetworkPolicy\/phi-guardrail ingress\[0\] "allow-phi"/,
    );
  });

  test('a NetworkPolicy still isolates, whatever the tiers say (no pass finding of its own)', () => {
    const text =
      WORKLOADS +
      guardrail('Allow') +
      networkPolicy('records', 'deny-in', 'podSelector: {}\npolicyTypes: [Ingress]');
    assert.deepEqual(
      run(text, 'HIPAA-NP-005').map((f) => [f.status, f.objects]),
      [['pass', []]],
    );
  });
});

describe('HIPAA-NP-007 and 008: default deny by the Admin and Baseline tiers', () => {
  test('a Baseline deny-all of every pod is a default deny: pass, with the rules', () => {
    const text = WORKLOADS + baselineDeny();
    const finding = single(run(text, 'HIPAA-NP-007'));
    assert.equal(finding.status, 'pass');
    assert.deepEqual(finding.objects, ['records']);
    assert.match(
      notes(finding),
      /^ingress denied by default by the Admin\/Baseline tier, for every pod of records: BaselineAdminNetworkPolicy\/default ingress\[0\] "deny-all-ingress"/,
    );
    assert.match(
      notes(finding),
      /egress denied by default by the Admin\/Baseline tier, for every pod of records: BaselineAdminNetworkPolicy\/default egress\[0\]/,
    );
    assert.equal(finding.evidence.rules?.length, 2);
  });

  test('a NetworkPolicy for one direction and the Baseline tier for the other', () => {
    const text =
      WORKLOADS +
      baselineDeny('[{namespaces: {}}, {networks: [0.0.0.0/0, "::/0"]}]') +
      networkPolicy('records', 'deny-in', 'podSelector: {}\npolicyTypes: [Ingress]');
    const finding = single(run(text, 'HIPAA-NP-007'));
    assert.equal(finding.status, 'pass');
    assert.match(notes(finding), /^ingress denied by default by records\/deny-in \(cluster\.yaml:\d+\)/);
    assert.match(notes(finding), /egress denied by default by the Admin\/Baseline tier/);
  });

  test('a deny whose subject is one workload is no default deny for the namespace', () => {
    const text =
      WORKLOADS +
      baselineDeny(undefined, '{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}');
    const finding = single(run(text, 'HIPAA-NP-007'));
    assert.equal(finding.status, 'fail');
    assert.match(
      notes(finding),
      /nor does the Admin\/Baseline tier: no Admin\/Baseline-tier policy whose subject is every pod of records has ingress rules/,
    );
    // Isolation of the workload itself is still granted by it (005).
    assert.equal(single(run(text, 'HIPAA-NP-005')).status, 'pass');
  });

  test('an egress deny without networks is no default deny', () => {
    const finding = single(run(WORKLOADS + baselineDeny('[{namespaces: {}}]'), 'HIPAA-NP-007'));
    assert.equal(finding.status, 'fail');
    assert.match(notes(finding), /ingress denied by default by the Admin\/Baseline tier/);
    assert.match(
      notes(finding),
      /no policy with podSelector \{\} denies egress by default in records, nor does the Admin\/Baseline tier: no Deny rule \(networks, all ports\) covers 0\.0\.0\.0\/0, ::\/0/,
    );
  });

  test('008: namespaces without NetworkPolicies pass together under a Baseline default deny', () => {
    const text = WORKLOADS + baselineDeny();
    const findings = run(text, 'HIPAA-NP-008');
    assert.deepEqual(
      findings.map((f) => [f.status, f.objects]),
      [['pass', ['monitoring', 'records', 'web']]],
    );
    assert.match(
      notes(findings[0] as Finding),
      /the Admin\/Baseline tier denies both directions by default there/,
    );
    const partial = run(WORKLOADS + baselineDeny('[{namespaces: {}}]'), 'HIPAA-NP-008');
    assert.deepEqual(
      partial.map((f) => f.status),
      ['fail', 'fail', 'fail'],
    );
    assert.match(
      notes(partial[0] as Finding),
      /are not denied by default by the Admin\/Baseline tier either/,
    );
  });
});

describe('evidence names the Admin and Baseline rules that allowed an edge', () => {
  const ALLOW_MONITORING = yaml`
    ---
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: AdminNetworkPolicy
    metadata: {name: phi-exceptions}
    spec:
      priority: 5
      subject: {namespaces: {matchLabels: {data-classification: phi}}}
      ingress:
      - name: allow-monitoring
        action: Allow
        from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
        ports: [{portNumber: {protocol: TCP, port: 9090}}]
      egress:
      - name: allow-internet
        action: Allow
        to: [{networks: [0.0.0.0/0]}]
        ports: [{portNumber: {protocol: TCP, port: 443}}]
  `;
  // The default deny covers PHI only, so monitoring may send.
  const text =
    WORKLOADS +
    ALLOW_MONITORING +
    baselineDeny(undefined, '{namespaces: {matchLabels: {data-classification: phi}}}');

  test('012: an edge into PHI the Admin tier allows cites that rule, and points at it', () => {
    const finding = single(run(text, 'HIPAA-NP-012'));
    assert.deepEqual(finding.evidence.edges, [`monitoring/prom[Deployment] -> ${API} TCP 9090`]);
    const line = lineOf(text, 'name: allow-monitoring');
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/phi-exceptions ingress[0] "allow-monitoring" (Allow) @ cluster.yaml:${line}`,
    ]);
    assert.deepEqual(finding.location, { file: 'cluster.yaml', line });
  });

  test('016: internet egress allowed by the Admin tier names the rule and who must narrow it', () => {
    const finding = single(run(text, 'HIPAA-NP-016'));
    assert.deepEqual(finding.evidence.edges, [`${API} -> 0.0.0.0/0 TCP 443`]);
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/phi-exceptions egress[0] "allow-internet" (Allow TCP 443) @ cluster.yaml:${lineOf(text, 'name: allow-internet')}`,
    ]);
    assert.match(finding.remediation?.text ?? '', /must be narrowed by a cluster administrator/);
    assert.equal(finding.remediation?.yaml, undefined);
  });

  test('009: external sources fall to the default when only the tiers isolate, and the note says why', () => {
    const finding = single(run(text, 'HIPAA-NP-009'));
    assert.equal(finding.status, 'fail');
    assert.match(
      notes(finding),
      /isolated from pods by the Admin\/Baseline tier .*cannot name sources outside the cluster/,
    );
    assert.doesNotMatch(notes(finding), /not ingress-isolated/);
  });

  test('a NetworkPolicy rule is cited only for the ports the Admin tier left to it', () => {
    const withPolicy =
      WORKLOADS +
      ALLOW_MONITORING +
      networkPolicy(
        'records',
        'api-in',
        'podSelector: {matchLabels: {app: api}}\npolicyTypes: [Ingress]\ningress:\n  - from: [{namespaceSelector: {}}]',
      );
    const finding = single(run(withPolicy, 'HIPAA-NP-014'));
    const entries = finding.evidence.rules?.map((r) => r.rule) ?? [];
    assert.ok(
      entries.includes('AdminNetworkPolicy/phi-exceptions ingress[0] "allow-monitoring" (Allow TCP 9090)'),
      entries.join('\n'),
    );
    assert.ok(
      entries.includes('records/api-in#spec.ingress[0] (TCP 1-9089,9091-65535 UDP 1-65535 SCTP 1-65535)'),
      entries.join('\n'),
    );
  });
});

describe('HIPAA-NP-009/010 and the Admin tier', () => {
  const OPEN_TO_ALL = networkPolicy(
    'records',
    'api-in',
    'podSelector: {matchLabels: {app: api}}\npolicyTypes: [Ingress]\ningress:\n  - from: [{namespaceSelector: {}}]\n    ports: [{port: 8443}]',
  );

  test('a NetworkPolicy admitting every namespace behind an Admin guardrail does not admit every namespace', () => {
    assert.equal(single(run(WORKLOADS + OPEN_TO_ALL, 'HIPAA-NP-010')).status, 'fail');
    assert.deepEqual(
      run(WORKLOADS + OPEN_TO_ALL + guardrail('Pass'), 'HIPAA-NP-010').map((f) => f.status),
      ['pass'],
    );
  });

  test('an Admin-tier Allow from every namespace is a broad peer', () => {
    const text =
      WORKLOADS +
      OPEN_TO_ALL.replace(
        'namespaceSelector: {}',
        'namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}',
      ) +
      yaml`
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: everyone-in}
        spec:
          priority: 1
          subject: {namespaces: {}}
          ingress:
          - name: allow-all
            action: Allow
            from: [{namespaces: {}}]
      `;
    const finding = single(run(text, 'HIPAA-NP-010'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/everyone-in ingress[0] "allow-all" from[0] @ cluster.yaml:${lineOf(text, 'name: allow-all')}`,
    ]);
    assert.match(notes(finding), /admits every pod of every namespace, including namespaces created later/);
  });
});

describe('HIPAA-NP-013 and Admin-tier namespace peers', () => {
  test('an Admin-tier Allow by a custom namespace label fails, naming the peer; by name it passes', () => {
    const text = WORKLOADS + guardrail('Allow');
    const finding = single(run(text, 'HIPAA-NP-013'));
    assert.equal(finding.status, 'fail');
    assert.deepEqual(finding.objects, [API, 'AdminNetworkPolicy/phi-guardrail']);
    assert.deepEqual(rules(finding), [
      `AdminNetworkPolicy/phi-guardrail ingress[0] "allow-phi" from[0] @ cluster.yaml:${lineOf(text, 'name: allow-phi')}`,
    ]);
    assert.match(
      notes(finding),
      /selects by data-classification; now matches records, and any namespace labelled so later gains access that no NetworkPolicy can take away/,
    );
    assert.match(finding.remediation?.text ?? '', /a cluster administrator must do the same/);
    const pinned =
      WORKLOADS + guardrail('Allow', '{namespaces: {matchLabels: {kubernetes.io/metadata.name: records}}}');
    assert.deepEqual(
      run(pinned, 'HIPAA-NP-013').map((f) => f.status),
      ['pass'],
    );
  });
});
