import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import { failsAt, runAudit } from './audit.ts';
import { loadAuditConfig } from './config.ts';

// The shipped example: each planted mistake in insecure/ must be named under its check id, and the
// fixed version must pass.
const example = fileURLToPath(new URL('../../examples/hipaa-clinic/', import.meta.url));
const { config } = loadAuditConfig(`${example}phiwall.yaml`);
const audit = (version: string) =>
  runAudit(new Engine(loadSnapshot([`${example}${version}`]), DEFAULT_OPTIONS), config, {
    now: new Date('2026-11-27'),
  });

test('every planted mistake of the insecure clinic is found under its check', () => {
  const result = audit('insecure');
  const flagged = (check: string, object: string) =>
    result.findings.some(
      (f) =>
        f.check === check &&
        f.status !== 'pass' &&
        f.status !== 'not-assessable' &&
        f.objects.includes(object),
    );
  const expected: [string, string, string][] = [
    ['HIPAA-NP-002', 'kube-system/kube-flannel-ds[DaemonSet]', 'Flannel alone enforces no policy'],
    ['HIPAA-NP-005', 'ehr/ehr-api[Deployment]', 'no default deny: the EHR API is not ingress-isolated'],
    ['HIPAA-NP-006', 'ehr/ehr-api[Deployment]', 'open egress'],
    ['HIPAA-NP-007', 'ehr', 'no default deny in a PHI namespace'],
    ['HIPAA-NP-010', 'records/records-db[StatefulSet]', 'allow-all namespaces'],
    ['HIPAA-NP-016', 'ehr/ehr-api[Deployment]', 'open egress to the internet'],
    ['HIPAA-NP-018', 'ehr/ehr-api[Deployment]', 'metadata endpoint reachable'],
    ['HIPAA-NP-020', 'ehr/ehr-api[Deployment]', 'plain-HTTP port'],
    ['HIPAA-NP-021', 'ehr/ehr', 'Ingress without TLS'],
    ['HIPAA-NP-022', 'ehr/ehr-api', 'NodePort on PHI'],
    ['HIPAA-NP-026', 'records/records-backup', "typo'd label"],
  ];
  const missing = expected.filter(([check, object]) => !flagged(check, object));
  assert.deepEqual(
    missing,
    [],
    JSON.stringify(
      result.findings.filter((f) => f.status !== 'pass'),
      null,
      1,
    ).slice(0, 4000),
  );
  assert.equal(failsAt(result, 'high'), true);
});

test('the secure clinic passes at --fail-on low, apart from informational checks', () => {
  const result = audit('secure');
  const failing = result.findings.filter((f) => f.status === 'fail' && !f.accepted && f.severity !== 'info');
  assert.deepEqual(
    failing.map((f) => `${f.check} ${f.objects.join(',')}`),
    [],
  );
  assert.equal(failsAt(result, 'low'), false);
});

test('the Calico clinic: its tiered GlobalNetworkPolicy guardrail and default deny pass isolation, default deny and guardrail checks', () => {
  const result = audit('calico');
  const failing = result.findings.filter((f) => f.status === 'fail' && !f.accepted && f.severity !== 'info');
  assert.deepEqual(
    failing.map((f) => `${f.check} ${f.objects.join(',')}`),
    [],
  );
  assert.equal(failsAt(result, 'low'), false);
  const passing = (check: string) =>
    result.findings.filter((f) => f.check === check).every((f) => f.status === 'pass');
  for (const check of ['HIPAA-NP-005', 'HIPAA-NP-006', 'HIPAA-NP-007', 'HIPAA-NP-008', 'HIPAA-NP-033'])
    assert.ok(passing(check), `${check} passes`);
  const guardrail = result.findings.filter((f) => f.check === 'HIPAA-NP-033');
  assert.deepEqual(
    guardrail.map((f) => [f.status, f.objects.join(','), f.evidence.rules?.map((r) => r.rule)]),
    [
      ['pass', 'ehr', ['GlobalNetworkPolicy security.phi-guardrail ingress[1] (Deny)']],
      ['pass', 'records', ['GlobalNetworkPolicy security.phi-guardrail ingress[1] (Deny)']],
    ],
  );
});

test('the Cilium clinic: CNPs and CCNPs alone (no NetworkPolicy) pass isolation, default deny and guardrail checks', () => {
  const result = audit('cilium');
  const failing = result.findings.filter((f) => f.status === 'fail' && !f.accepted && f.severity !== 'info');
  assert.deepEqual(
    failing.map((f) => `${f.check} ${f.objects.join(',')}`),
    [],
  );
  assert.equal(failsAt(result, 'low'), false);
  const findings = (check: string) => result.findings.filter((f) => f.check === check);
  for (const check of ['HIPAA-NP-005', 'HIPAA-NP-006', 'HIPAA-NP-007', 'HIPAA-NP-008', 'HIPAA-NP-033']) {
    assert.ok(findings(check).length > 0, `${check} has findings`);
    assert.ok(
      findings(check).every((f) => f.status === 'pass'),
      `${check} passes`,
    );
  }
  // Both PHI workloads, ingress: the guardrail's deny rule, the default deny and their own CNPs isolate them.
  assert.deepEqual(
    findings('HIPAA-NP-005').map((f) => [f.objects.join(','), f.evidence.rules?.map((r) => r.rule)]),
    [
      [
        'ehr/ehr-api[Deployment],records/records-db[StatefulSet]',
        [
          'CiliumClusterwideNetworkPolicy/phi-guardrail',
          'CiliumClusterwideNetworkPolicy/default-deny',
          'CiliumNetworkPolicy/ehr/ehr-api',
          'CiliumNetworkPolicy/records/records-db',
        ],
      ],
    ],
  );
  assert.deepEqual(
    findings('HIPAA-NP-033').map((f) => [
      f.status,
      f.objects.join(','),
      f.evidence.rules?.map((r) => r.rule),
    ]),
    [
      ['pass', 'ehr', ['CiliumClusterwideNetworkPolicy/phi-guardrail ingressDeny[0] (Deny)']],
      ['pass', 'records', ['CiliumClusterwideNetworkPolicy/phi-guardrail ingressDeny[0] (Deny)']],
    ],
  );
});
