import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot } from '../load/snapshot.ts';
import { yaml } from '../testing/yaml.ts';
import { type LintProblem, lintSnapshot } from './lint.ts';

const APPS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: phi, labels: { phi: "true" } }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: web }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: db, namespace: phi, labels: { app: db } }
  spec: { containers: [{ name: db, image: db, ports: [{ name: pg, containerPort: 5432 }] }] }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: frontend, namespace: web, labels: { app: frontend } }
  spec: { containers: [{ name: web, image: web }] }
`;

function lint(policies: string): LintProblem[] {
  const snapshot = buildSnapshot([
    { path: 'apps.yaml', text: APPS },
    { path: 'calico.yaml', text: policies },
  ]);
  return lintSnapshot(snapshot).problems.filter((p) => p.file === 'calico.yaml');
}

const rules = (problems: LintProblem[]) => problems.map((p) => `${p.rule} calico.yaml:${p.line}`);

test('PW-LINT-020 and PW-LINT-021: a Calico policy that selects nothing, a rule that matches nothing', () => {
  const problems = lint(yaml`
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: { name: typo }
    spec: { selector: "app == 'dbb'", ingress: [{ action: Deny }] }
    ---
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata: { name: db, namespace: phi }
    spec:
      selector: "app == 'db'"
      ingress:
        - action: Allow
          source: { selector: "app == 'frontend'" }
        - action: Allow
          source: { namespaceSelector: "projectcalico.org/name == 'web'" }
  `);
  assert.deepEqual(rules(problems), ['PW-LINT-020 calico.yaml:1', 'PW-LINT-021 calico.yaml:12']);
  assert.match(
    problems[0]?.message ?? '',
    /GlobalNetworkPolicy typo applies to no workload: its selector "app == 'dbb'"/,
  );
});

test('PW-LINT-022: a Pass that no later tier picks up; PW-LINT-023: a rule an earlier one shadows', () => {
  const problems = lint(yaml`
    apiVersion: projectcalico.org/v3
    kind: Tier
    metadata: { name: security }
    spec: { order: 100 }
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: { name: security.pass }
    spec:
      tier: security
      selector: "app == 'db'"
      ingress: [{ action: Pass }]
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: { name: web }
    spec:
      selector: "app == 'frontend'"
      ingress:
        - action: Allow
          protocol: TCP
          destination: { ports: [80, 443] }
        - action: Deny
          protocol: TCP
          destination: { ports: [443] }
  `);
  assert.deepEqual(rules(problems), ['PW-LINT-022 calico.yaml:12', 'PW-LINT-023 calico.yaml:23']);
  assert.match(
    problems[1]?.message ?? '',
    /ingress\[1\] \(Deny\) never decides anything: GlobalNetworkPolicy web ingress\[0\] \(Allow, calico.yaml:20\)/,
  );
});

test('a Pass that a later tier decides is fine', () => {
  const problems = lint(yaml`
    apiVersion: projectcalico.org/v3
    kind: Tier
    metadata: { name: security }
    spec: { order: 100 }
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: { name: security.pass }
    spec:
      tier: security
      selector: "app == 'db'"
      ingress: [{ action: Pass }]
    ---
    apiVersion: projectcalico.org/v3
    kind: NetworkPolicy
    metadata: { name: db, namespace: phi }
    spec: { selector: all(), ingress: [{ action: Allow, protocol: TCP, destination: { ports: [5432] } }] }
  `);
  assert.deepEqual(rules(problems), []);
});
