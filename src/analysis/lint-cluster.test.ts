import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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

/** An AdminNetworkPolicy (or, with `tier`, a ClusterNetworkPolicy) with the spec written below its header. */
function anp(name: string, spec: string, kind = 'AdminNetworkPolicy'): string {
  const body = spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  const version = kind === 'ClusterNetworkPolicy' ? 'v1alpha2' : 'v1alpha1';
  return `apiVersion: policy.networking.k8s.io/${version}\nkind: ${kind}\nmetadata: { name: ${name} }\nspec:\n${body}\n`;
}

function lint(...policies: string[]): LintProblem[] {
  const snapshot = buildSnapshot([
    { path: 'apps.yaml', text: APPS },
    { path: 'anp.yaml', text: policies.join('---\n') },
  ]);
  return lintSnapshot(snapshot).problems.filter((p) => p.file === 'anp.yaml');
}

const rules = (problems: LintProblem[]) => problems.map((p) => `${p.rule} ${p.file}:${p.line}`);

const guardrail = `
priority: 10
subject: { namespaces: { matchLabels: { phi: "true" } } }
ingress:
  - { name: allow-phi, action: Allow, from: [{ namespaces: { matchLabels: { phi: "true" } } }] }
  - { name: deny-rest, action: Deny, from: [{ namespaces: {} }] }`;

describe('cluster policy lint', () => {
  test('a sound guardrail raises nothing', () => {
    assert.deepEqual(lint(anp('guardrail', guardrail)), []);
  });

  test('PW-LINT-009: a subject that selects no pod', () => {
    const problems = lint(
      anp('ghost', guardrail.replace('phi: "true" } } }\ningress', 'phi: "yes" } } }\ningress')),
    );
    assert.deepEqual(rules(problems), ['PW-LINT-009 anp.yaml:1']);
    assert.match(
      problems[0]?.message ?? '',
      /AdminNetworkPolicy\/ghost selects no workload: its namespace selector phi=yes matches no namespace/,
    );
  });

  test('PW-LINT-010: a pods peer and a nodes peer that select nothing', () => {
    const problems = lint(
      anp(
        'peers',
        `
priority: 3
subject: { namespaces: { matchLabels: { phi: "true" } } }
egress:
  - action: Deny
    to:
      - pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: frontent } } }
      - nodes: { matchLabels: { role: infra } }`,
      ),
    );
    assert.deepEqual(rules(problems), ['PW-LINT-010 anp.yaml:8', 'PW-LINT-010 anp.yaml:8']);
    assert.match(
      problems[0]?.message ?? '',
      /egress\[0\]\.to\[0\] selects nothing: no pod in .* matches app=frontent/,
    );
    assert.match(problems[1]?.message ?? '', /to\[1\] selects nothing: .*no Node objects/);
  });

  test('PW-LINT-011: a rule that earlier rules shadow, naming them', () => {
    const problems = lint(
      anp(
        'shadowed',
        `
priority: 10
subject: { namespaces: { matchLabels: { phi: "true" } } }
ingress:
  - { name: deny-all, action: Deny, from: [{ namespaces: {} }] }
  - { name: allow-web, action: Allow, from: [{ namespaces: { matchLabels: { kubernetes.io/metadata.name: web } } }], ports: [{ portNumber: { port: 5432 } }] }`,
      ),
    );
    assert.deepEqual(rules(problems), ['PW-LINT-011 anp.yaml:9']);
    assert.match(
      problems[0]?.message ?? '',
      /ingress\[1\] "allow-web" never decides a connection: .*ingress\[0\] "deny-all" \(anp\.yaml:8\)/,
    );
  });

  test('PW-LINT-011: a rule on a port a lower-priority policy never gets, and one whose named port no pod has', () => {
    const problems = lint(
      anp('first', guardrail),
      anp(
        'second',
        `
priority: 20
subject: { namespaces: { matchLabels: { phi: "true" } } }
ingress:
  - { name: allow-web, action: Allow, from: [{ namespaces: {} }] }
egress:
  - { name: no-such-port, action: Allow, to: [{ namespaces: {} }], ports: [{ namedPort: grpc }] }`,
      ),
    );
    assert.deepEqual(rules(problems), ['PW-LINT-011 anp.yaml:18', 'PW-LINT-011 anp.yaml:20']);
    assert.match(
      problems[0]?.message ?? '',
      /AdminNetworkPolicy\/first ingress\[0\] "allow-phi" \(anp\.yaml:8\), AdminNetworkPolicy\/first ingress\[1\] "deny-rest"/,
    );
    assert.match(problems[1]?.message ?? '', /no destination pod defines the named port\(s\) grpc/);
  });

  test('PW-LINT-012: same-tier policies of one priority selecting the same pods', () => {
    const problems = lint(
      anp('a', guardrail),
      anp(
        'b',
        `tier: Admin\n${guardrail.replaceAll('action: Allow', 'action: Accept')}`,
        'ClusterNetworkPolicy',
      ),
    );
    const found = problems.filter((p) => p.rule === 'PW-LINT-012');
    assert.deepEqual(rules(found), ['PW-LINT-012 anp.yaml:11']);
    assert.match(
      found[0]?.message ?? '',
      /ClusterNetworkPolicy\/b and AdminNetworkPolicy\/a \(anp\.yaml:1\) are both Admin-tier policies of priority 10/,
    );
    // A different priority, or a different tier, is no overlap.
    assert.deepEqual(
      lint(
        anp('a', guardrail),
        anp(
          'b',
          `tier: Baseline\n${guardrail.replaceAll('action: Allow', 'action: Accept')}`,
          'ClusterNetworkPolicy',
        ),
      ).filter((p) => p.rule === 'PW-LINT-012'),
      [],
    );
  });
});
