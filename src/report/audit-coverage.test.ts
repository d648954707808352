import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderAudit } from '../cli/audit.ts';
import { sha256 } from './audit-coverage.ts';
import { sampleReport } from './audit-fixtures.ts';

const FORMATS = ['text', 'json', 'md', 'html', 'sarif', 'junit'] as const;

function report() {
  return {
    ...sampleReport(),
    run: {
      commandLine: 'phiwall audit k8s --ipblock-matches-pods=false',
      user: 'auditor',
      host: 'build-17',
      startedAt: new Date('2026-11-27T09:59:58Z'),
      repository: { root: '/srv/repo', commit: '0123456789abcdef0123456789abcdef01234567' },
      engineOptions: { ipBlockMatchesPods: false, hostNetwork: 'node' },
    },
  };
}

test('every format carries the coverage statement', () => {
  const sample = report();
  const input = sample.snapshot.inputs[0];
  assert.ok(input);
  for (const format of FORMATS) {
    const out = renderAudit(sample, format);
    for (const expected of [
      input.sha256,
      'phiwall audit k8s',
      'auditor',
      'build-17',
      '0123456789abcdef0123456789abcdef01234567',
      'ipBlockMatchesPods',
      '2026-11-27T09:59:58',
    ])
      assert.ok(out.includes(expected), `${format} lacks ${expected}`);
  }
});

test('the coverage statement names namespaces in and out of scope and the kinds skipped', () => {
  const text = renderAudit(report(), 'text');
  assert.match(text, /Namespaces in scope \(\d+\): .*phi/);
  assert.match(text, /Namespaces excluded \(\d+\): /);
  assert.match(text, /Objects skipped \(kinds phiwall does not read\): /);
});

test('text and JSON reports carry a SHA-256 of their body that checks out', () => {
  const text = renderAudit(report(), 'text');
  const match = /^(.*)Report SHA-256 \(of the text above\): ([0-9a-f]{64})\n$/s.exec(text);
  assert.ok(match, 'the digest closes the text report');
  assert.equal(sha256(match[1] as string), match[2]);
  const json = JSON.parse(renderAudit(report(), 'json'));
  const digest = json.coverage.reportSha256;
  assert.match(digest, /^[0-9a-f]{64}$/);
  json.coverage.reportSha256 = '';
  assert.equal(sha256(JSON.stringify(json, null, 2)), digest);
});

test('when HIPAA-NP-002 is not assessable, every human-readable format says results assume enforcement', () => {
  const sample = report();
  assert.equal(sample.result.findings.find((f) => f.check === 'HIPAA-NP-002')?.status, 'not-assessable');
  for (const format of ['text', 'md', 'html'] as const)
    assert.match(renderAudit(sample, format), /assumes that NetworkPolicies are enforced/, format);
});
