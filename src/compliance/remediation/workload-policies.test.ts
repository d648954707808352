import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditOf, findingsOf } from '../../testing/audit.ts';
import { yaml } from '../../testing/yaml.ts';

// A chart-deployed workload: the template carries the chart and version labels, the selector does not.
const chart = (version: string, selector = 'selector: {matchLabels: {app.kubernetes.io/name: web}}') => yaml`
  apiVersion: v1
  kind: Namespace
  metadata: {name: ehr, labels: {data-classification: phi}}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: ehr}
  spec:
    ${selector}
    template:
      metadata:
        labels:
          app.kubernetes.io/name: web
          app.kubernetes.io/version: "${version}"
          helm.sh/chart: web-${version}
          pod-template-hash: 5d9c7b
          tier: frontend
      spec: {containers: [{name: web, image: "web:${version}"}]}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: other, namespace: ehr}
  spec:
    selector: {matchLabels: {app.kubernetes.io/name: other}}
    template:
      metadata: {labels: {app.kubernetes.io/name: other}}
      spec: {containers: [{name: other, image: other}]}
`;

const WEB = 'ehr/web[Deployment]';

function fixOf(manifests: string, check: string): string {
  const finding = findingsOf(auditOf(manifests), check).find((f) => f.objects.includes(WEB));
  assert.ok(finding?.remediation?.yaml, `${check} offers a manifest`);
  return finding.remediation.yaml;
}

function statusFor(manifests: string, check: string): string | undefined {
  const findings = findingsOf(auditOf(manifests), check);
  assert.ok(findings.length > 0);
  return findings.find((f) => f.objects.includes(WEB))?.status ?? 'pass';
}

describe('remediations select workloads by what lasts', () => {
  for (const check of ['HIPAA-NP-005', 'HIPAA-NP-006']) {
    test(`${check}: the fix selects by the controller's spec.selector, never version, chart or hash`, () => {
      const fix = fixOf(chart('1.0.0'), check);
      assert.match(fix, /podSelector:\n {4}matchLabels:\n {6}app\.kubernetes\.io\/name: web\n/);
      for (const volatile of ['app.kubernetes.io/version', 'helm.sh/chart', 'pod-template-hash', 'tier'])
        assert.ok(!fix.includes(volatile), volatile);
    });

    test(`${check}: the applied fix makes the finding pass, and still does after a chart upgrade`, () => {
      const fix = fixOf(chart('1.0.0'), check);
      assert.equal(statusFor(chart('1.0.0'), check), 'fail');
      assert.equal(statusFor(`${chart('1.0.0')}\n---\n${fix}`, check), 'pass');
      assert.equal(statusFor(`${chart('2.0.0')}\n---\n${fix}`, check), 'pass');
    });
  }

  test('without a controller selector, the stable template labels are used, volatile ones left out', () => {
    const noSelector = chart('1.0.0', '');
    const fix = fixOf(noSelector, 'HIPAA-NP-005');
    assert.match(fix, /app\.kubernetes\.io\/name: web/);
    assert.match(fix, /tier: frontend/);
    for (const volatile of ['app.kubernetes.io/version', 'helm.sh/chart', 'pod-template-hash'])
      assert.ok(!fix.includes(volatile), volatile);
    assert.equal(statusFor(`${chart('2.0.0', '')}\n---\n${fix}`, 'HIPAA-NP-005'), 'pass');
  });

  test('the fix selects no other workload of the namespace', () => {
    const fix = fixOf(chart('1.0.0'), 'HIPAA-NP-005');
    const after = findingsOf(auditOf(`${chart('1.0.0')}\n---\n${fix}`), 'HIPAA-NP-005');
    assert.ok(after.some((f) => f.status === 'fail' && f.objects.includes('ehr/other[Deployment]')));
  });
});
