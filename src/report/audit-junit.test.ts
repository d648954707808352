import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { auditOf } from '../testing/audit.ts';
import { PLANTED, SMALL_CLUSTER, sampleReport } from './audit-fixtures.ts';
import { renderAuditJunit, xmlText } from './audit-junit.ts';

/** Enough of an XML reader to prove the tags nest and text holds no raw markup. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>\n/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  for (const match of body.matchAll(
    /<(\/?)([A-Za-z-]+)((?:\s+[a-z-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g,
  )) {
    const [token, closing, name, , selfClosing] = match;
    assert.ok(name, `stray markup ${JSON.stringify(token)} at ${match.index}`);
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `mismatched </${name}> at ${match.index}`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
}

function count(xml: string, pattern: RegExp): number {
  return xml.match(pattern)?.length ?? 0;
}

test('a case per check and object: failures for fail, skipped for not-assessable and accepted', () => {
  const xml = renderAuditJunit(sampleReport());
  assertWellFormed(xml);
  // 023, 002, 012×2, 010, 009, 024, 032
  assert.equal(count(xml, /<testcase /g), 8);
  assert.match(xml, /<testsuites name="phiwall audit" tests="8" failures="2" errors="0" skipped="2"/);
  assert.equal(count(xml, /<failure /g), 2);
  assert.match(
    xml,
    /<testcase classname="HIPAA-NP-010" name="phi\/db\[Deployment\]" time="0">\n {6}<failure message="high: [^"]+" type="high">/,
  );
  assert.match(xml, /<skipped message="not assessable: no kube-system DaemonSets in input"\/>/);
  assert.match(xml, /<skipped message="accepted until 2027-01-31: load balancer health checks/);
  assert.equal(count(xml, /<system-out>/g), 8);
  assert.match(xml, /edge: shop\/web\[Deployment\] -&gt; phi\/db\[Deployment\] TCP 5432/);
  assert.match(xml, /rule: phi\/db-in#spec\.ingress\[0\]\.from\[0\] \(cluster\.yaml:37\)/);
  const review = xml.slice(
    xml.indexOf('<testsuite name="HIPAA-NP-012'),
    xml.indexOf('</testsuite>', xml.indexOf('HIPAA-NP-012')),
  );
  assert.equal(count(review, /<testcase /g), 2);
  assert.equal(count(review, /<failure|<skipped/g), 0, 'needs-review does not fail the build');
});

test('untrusted text is escaped and characters XML cannot hold are dropped', () => {
  const xml = renderAuditJunit(sampleReport({ label: `${PLANTED}"&'\u0007` }));
  assertWellFormed(xml);
  assert.ok(!xml.includes(PLANTED));
  assert.ok(xml.includes('name="&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&apos;"'));
  assert.equal(xmlText('a\u0000b\u001bc\n'), 'abc\n');
});

test('a real audit of a small cluster: counts agree with the cases', () => {
  const result = auditOf(SMALL_CLUSTER);
  const xml = renderAuditJunit({
    result,
    snapshot: buildSnapshot([{ path: 'cluster.yaml', text: SMALL_CLUSTER }]),
    config: DEFAULT_CONFIG,
    generatedAt: new Date('2026-11-27T00:00:00Z'),
  });
  assertWellFormed(xml);
  const cases = result.findings.reduce((n, f) => n + Math.max(1, f.objects.length), 0);
  const failing = result.findings
    .filter((f) => f.status === 'fail' && !f.accepted)
    .reduce((n, f) => n + Math.max(1, f.objects.length), 0);
  assert.equal(count(xml, /<testcase /g), cases);
  assert.equal(count(xml, /<failure /g), failing);
  assert.match(xml, new RegExp(`<testsuites [^>]*tests="${cases}" failures="${failing}"`));
  const checks = new Set(result.findings.map((f) => f.check));
  assert.equal(count(xml, /<testsuite /g), checks.size);
});
