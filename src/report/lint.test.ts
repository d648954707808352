import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { lintSnapshot } from '../analysis/lint.ts';
import { ExitCode } from '../cli/io.ts';
import { lintCommand, runLint } from '../cli/lint.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { InputError } from '../load/diagnostics.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { assertValidSarif, validateSarif } from '../testing/sarif.ts';
import { yaml } from '../testing/yaml.ts';
import { lintJson, lintSarif, renderLintText } from './lint.ts';

const CLUSTER = yaml`
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: api, namespace: shop }
  spec:
    selector: { matchLabels: { app: api } }
    template:
      metadata: { labels: { app: api } }
      spec:
        containers: [{ name: api, image: api }]
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: ghost, namespace: shop }
  spec:
    podSelector: { matchLabels: { app: ghost } }
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: api, namespace: shop }
  spec:
    podSelector: { matchLabels: { app: api } }
    policyTypes: [Ingress]
    egress:
      - {}
`;

const CLEAN = yaml`
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: api, namespace: shop }
  spec:
    selector: { matchLabels: { app: api } }
    template:
      metadata: { labels: { app: api } }
      spec:
        containers: [{ name: api, image: api }]
`;

function reportOf(text: string, path = 'cluster.yaml') {
  const snapshot = buildSnapshot([{ path, text }]);
  return { snapshot, result: lintSnapshot(snapshot) };
}

test('text: one line per problem at file:line with severity and rule, then its fix and a count', () => {
  const text = renderLintText(reportOf(CLUSTER));
  assert.equal(
    text
      .split('\n')
      .filter((l) => /^\S+:\d+: /.test(l))
      .join('\n'),
    [
      'cluster.yaml:11: warning PW-LINT-001: policy shop/ghost selects no workload: podSelector app=ghost matches no pod in namespace shop; pods in shop carry app=api',
      'cluster.yaml:24: error PW-LINT-004: shop/api has 1 egress rule(s) but spec.policyTypes is [Ingress]: the egress rules are ignored',
    ].join('\n'),
  );
  assert.match(text, /\n {2}fix: Add Egress to spec.policyTypes of shop\/api/);
  assert.match(text, /\n1 error, 1 warning\n$/);
  assert.equal(renderLintText(reportOf(CLEAN)), 'no problems found\n');
});

test('json: problems with file, line, severity, fix, and a summary', () => {
  const json = lintJson(reportOf(CLUSTER));
  assert.deepEqual(json.summary, { errors: 1, warnings: 1, infos: 0 });
  assert.deepEqual(
    json.problems.map((p) => [p.rule, p.severity, p.file, p.line, p.policy]),
    [
      ['PW-LINT-001', 'warning', 'cluster.yaml', 11, 'shop/ghost'],
      ['PW-LINT-004', 'error', 'cluster.yaml', 24, 'shop/api'],
    ],
  );
  assert.ok(json.problems.every((p) => p.fix.length > 0));
});

test('sarif: valid SARIF 2.1.0, one rule per lint rule, results at file:line', () => {
  const log = lintSarif(reportOf(CLUSTER));
  assertValidSarif(log);
  const run = log.runs[0];
  // Written out here, not read from LINT_RULES: a level changed by mistake must fail this test.
  assert.deepEqual(
    run?.tool.driver.rules.map((r) => [r.id, r.defaultConfiguration.level]),
    [
      ['PW-LINT-001', 'warning'],
      ['PW-LINT-002', 'warning'],
      ['PW-LINT-003', 'warning'],
      ['PW-LINT-004', 'error'],
      ['PW-LINT-005', 'error'],
      ['PW-LINT-006', 'warning'],
      ['PW-LINT-007', 'warning'],
      ['PW-LINT-008', 'warning'],
      ['PW-LINT-009', 'warning'],
      ['PW-LINT-010', 'warning'],
      ['PW-LINT-011', 'warning'],
      ['PW-LINT-012', 'warning'],
      ['PW-LINT-013', 'note'],
      ['PW-LINT-020', 'warning'],
      ['PW-LINT-021', 'warning'],
      ['PW-LINT-022', 'warning'],
      ['PW-LINT-023', 'warning'],
      ['PW-LINT-030', 'warning'],
      ['PW-LINT-031', 'warning'],
      ['PW-LINT-032', 'warning'],
      ['PW-LINT-033', 'warning'],
      ['PW-LINT-034', 'error'],
    ],
  );
  assert.deepEqual(
    run?.results.map((r) => [r.ruleId, r.ruleIndex, r.level, r.locations[0]?.physicalLocation]),
    [
      [
        'PW-LINT-001',
        0,
        'warning',
        { artifactLocation: { uri: 'cluster.yaml', index: 0 }, region: { startLine: 11 } },
      ],
      [
        'PW-LINT-004',
        3,
        'error',
        { artifactLocation: { uri: 'cluster.yaml', index: 0 }, region: { startLine: 24 } },
      ],
    ],
  );
  assert.match(run?.results[1]?.message.text ?? '', /\nFix: Add Egress/);
  // The schema check is not vacuous: a level SARIF does not know is rejected.
  const broken = JSON.parse(JSON.stringify(log));
  broken.runs[0].results[0].level = 'critical';
  assert.equal(validateSarif(broken), false);
});

test('sarif: paths that are not plain relative names still make valid URIs; no problems is a valid empty run', () => {
  for (const path of ['<stdin>', '/abs/dir with space/c.yaml', 'dir/a#b?.yaml', 'C:\\k8s\\x.yaml'])
    assertValidSarif(lintSarif(reportOf(CLUSTER, path)));
  const clean = lintSarif(reportOf(CLEAN));
  assertValidSarif(clean);
  assert.deepEqual(clean.runs[0]?.results, []);
});

test('the command exits 1 on an error-level problem, 0 on warnings only or none', () => {
  const snapshot = (text: string) => buildSnapshot([{ path: 'cluster.yaml', text }]);
  assert.equal(runLint(snapshot(CLUSTER), DEFAULT_OPTIONS, 'text').code, 1);
  const warningsOnly = CLUSTER.slice(0, CLUSTER.lastIndexOf('---'));
  const warned = runLint(snapshot(warningsOnly), DEFAULT_OPTIONS, 'json');
  assert.equal(warned.code, 0);
  assert.deepEqual(JSON.parse(warned.output).summary, { errors: 0, warnings: 1, infos: 0 });
  assert.equal(runLint(snapshot(CLEAN), DEFAULT_OPTIONS, 'sarif').code, 0);
});

test('lintCommand: bad input is an InputError (exit 2), an error-level problem ExitCode 1', async () => {
  const run = async (text: string) => {
    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: () => {}, readStdin: () => text };
    const program = new Command('phiwall').exitOverride().addCommand(lintCommand(io).exitOverride());
    try {
      await program.parseAsync(['lint', '-'], { from: 'user' });
      return { code: 0, out: out.join('') };
    } catch (error) {
      if (error instanceof ExitCode) return { code: error.code, out: out.join('') };
      throw error;
    }
  };
  assert.equal((await run(CLUSTER)).code, 1);
  assert.match((await run(CLUSTER)).out, /PW-LINT-004/);
  assert.equal((await run(CLEAN)).code, 0);
  await assert.rejects(
    run('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {}\n'),
    InputError,
  );
});

test('info-level problems are counted apart, are SARIF notes and never fail the command', () => {
  const text = `${CLEAN}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: dns, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }]
      ports: [{ port: 53, protocol: UDP }]
`;
  const report = reportOf(text);
  assert.deepEqual(
    report.result.problems.map((p) => [p.rule, p.severity]),
    [['PW-LINT-013', 'info']],
  );
  assert.match(renderLintText(report), /\n0 errors, 0 warnings, 1 info\n$/);
  const log = lintSarif(report);
  assertValidSarif(log);
  assert.deepEqual(
    log.runs[0]?.results.map((r) => r.level),
    ['note'],
  );
  assert.equal(runLint(report.snapshot, DEFAULT_OPTIONS, 'text').code, 0);
});
