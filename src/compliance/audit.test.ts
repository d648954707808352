import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditOf, findingsOf } from '../testing/audit.ts';
import { failsAt } from './audit.ts';
import { CATALOGUE } from './catalogue.ts';

// A PHI namespace whose API nothing isolates: HIPAA-NP-005 (critical) fails.
const OPEN_PHI = `apiVersion: v1
kind: Namespace
metadata: {name: records, labels: {data-classification: phi}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: records, labels: {app: api}}
spec: {containers: [{name: api}]}
`;

test('every catalogue check appears in the result, passing ones once', () => {
  const result = auditOf(OPEN_PHI);
  assert.deepEqual(
    [...new Set(result.findings.map((f) => f.check))],
    CATALOGUE.map((d) => d.id),
  );
  assert.equal(findingsOf(result, 'HIPAA-NP-032').length, 1);
  assert.deepEqual(result.phi, [
    { workload: 'records/api[Pod]', reason: 'namespace records has data-classification=phi' },
  ]);
});

test('--fail-on thresholds count failing, non-accepted findings at or above the severity', () => {
  const result = auditOf(OPEN_PHI);
  assert.equal(failsAt(result, 'critical'), true);
  assert.equal(failsAt(result, 'never'), false);
});

test('an accepted finding stays in the report, marked, and counts as passing until it expires', () => {
  const accept = [
    {
      check: 'HIPAA-NP-005',
      object: 'records/api[Pod]',
      reason: 'compensating control',
      until: '2026-12-31',
    },
  ];
  const accepted = auditOf(OPEN_PHI, { accept }, new Date('2026-11-27'));
  const finding = findingsOf(accepted, 'HIPAA-NP-005')[0];
  assert.equal(finding?.status, 'fail');
  assert.deepEqual(finding?.accepted, { reason: 'compensating control', until: '2026-12-31' });
  assert.equal(
    accepted.summary.failingBySeverity.critical,
    auditOf(OPEN_PHI).summary.failingBySeverity.critical - 1,
  );
  const expired = auditOf(OPEN_PHI, { accept }, new Date('2027-01-01'));
  assert.equal(findingsOf(expired, 'HIPAA-NP-005')[0]?.accepted, undefined);
});
