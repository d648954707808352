import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { auditOf } from '../testing/audit.ts';
import { findingOf, PLANTED, resultOf, SMALL_CLUSTER, sampleReport } from './audit-fixtures.ts';
import { COMMENT_BUDGET, mdText, renderAuditMarkdown } from './audit-md.ts';

test('summary tables, failing findings before needs-review, evidence folded per finding', () => {
  const md = renderAuditMarkdown(sampleReport());
  assert.match(md, /^## phiwall HIPAA network-segmentation audit: 2 failing$/m);
  assert.match(
    md,
    /^\| 1 \| 2 \| 3 \| 1 \| 1 \| 1 \|$/m,
    'PHI, pass, fail, needs-review, not-assessable, accepted',
  );
  assert.match(md, /^\| not accepted \| 0 \| 1 \| 1 \| 0 \| 0 \|$/m);
  const table = md.slice(md.indexOf('### Findings'), md.indexOf('### Evidence'));
  const rows = table.split('\n').filter((line) => /^\| (❌|⚠️)/.test(line));
  assert.deepEqual(
    rows.map((row) => /HIPAA-NP-\d+/.exec(row)?.[0]),
    ['HIPAA-NP-010', 'HIPAA-NP-024', 'HIPAA-NP-009', 'HIPAA-NP-012'],
  );
  assert.match(rows[2] ?? '', /\(accepted\)/);
  assert.equal(md.match(/<details>/g)?.length, 6, 'four open findings, the not-assessable list, coverage');
  assert.match(md, /- rule: phi\/db-in\\#spec\.ingress\\\[0\\\]\.from\\\[0\\\] \(cluster\.yaml:37\)/);
  assert.match(md, /no kube-system DaemonSets in input/);
  assert.match(md, /^\*\*Passed:\*\* HIPAA-NP-023, HIPAA-NP-032$/m);
  assert.match(md, /6 years/);
});

test('untrusted text cannot inject HTML, break a table, or close the YAML fence', () => {
  const md = renderAuditMarkdown(sampleReport());
  assert.ok(!md.includes(PLANTED));
  assert.ok(md.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.match(md, /0\.0\.0\.0\/0 \\\| \\\*bold\\\*/);
  for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
    const cells = line.split(/(?<!\\)\|/).length;
    assert.ok(cells === 7 || cells === 8, `row with ${cells - 2} cells: ${line}`);
  }
  // The remediation YAML holds a ``` run, so its fence must be longer.
  assert.match(
    md,
    /^````yaml\nkind: NetworkPolicy\n# ``` a fence inside must not end the block\n[^`]*\n````$/m,
  );
  assert.equal(mdText('a\nb  c'), 'a b c');
});

test('a real audit of a small cluster renders whatever the checks found', () => {
  const result = auditOf(SMALL_CLUSTER);
  const report = {
    result,
    snapshot: buildSnapshot([{ path: 'cluster.yaml', text: SMALL_CLUSTER }]),
    config: DEFAULT_CONFIG,
    generatedAt: new Date('2026-11-27T00:00:00Z'),
  };
  const md = renderAuditMarkdown(report);
  const { byStatus } = result.summary;
  assert.match(
    md,
    new RegExp(
      `^\\| 1 \\| ${byStatus.pass} \\| ${byStatus.fail} \\| ${byStatus['needs-review']} \\| ${byStatus['not-assessable']} \\| 0 \\|$`,
      'm',
    ),
  );
  for (const f of result.findings) assert.ok(md.includes(f.check), `${f.check} missing`);
  const open = result.findings.filter((f) => f.status === 'fail' || f.status === 'needs-review');
  if (open.length) {
    assert.match(md, /### Findings/);
    assert.ok(md.indexOf(open[0]?.check ?? '') < md.indexOf('### Evidence'));
  }
});

test('a large audit still fits in one pull-request comment', () => {
  const report = sampleReport();
  report.result = resultOf(
    Array.from({ length: 400 }, (_, i) =>
      findingOf('HIPAA-NP-012', {
        status: 'fail',
        objects: [`ns${i}/client[Deployment]`, 'phi/db[Deployment]'],
        evidence: {
          edges: Array.from(
            { length: 10 },
            (_, j) => `ns${i}/client${j}[Deployment] -> phi/db[Deployment] TCP 5432`,
          ),
        },
      }),
    ),
  );
  const md = renderAuditMarkdown(report);
  assert.ok(md.length < 65_536 && md.length > COMMENT_BUDGET / 2, `${md.length} characters`);
  assert.match(md, /^…and 300 more findings\.$/m);
  assert.match(md, /^Evidence of \d+ more findings is left out so the comment fits/m);
  assert.match(md, /<sub>HIPAA requires documentation/);
});
