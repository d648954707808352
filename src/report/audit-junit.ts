import { CATALOGUE } from '../compliance/catalogue.ts';
import type { Finding } from '../compliance/types.ts';
import { VERSION } from '../version.ts';
import { type AuditReport, DISCLAIMER, RETENTION_NOTE } from './audit.ts';
import { coverageLines, coverageOf } from './audit-coverage.ts';

/** XML 1.0 cannot carry most control characters even escaped, so they are dropped. */
export function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function evidenceText(f: Finding): string {
  const lines = [`${f.check} ${f.title} (${f.severity}; ${f.hipaa.map((h) => `45 CFR ${h}`).join(', ')})`];
  lines.push(`status: ${f.status}`);
  if (f.accepted) lines.push(`accepted until ${f.accepted.until}: ${f.accepted.reason}`);
  if (f.objects.length) lines.push(`objects: ${f.objects.join(', ')}`);
  if (f.location) lines.push(`location: ${f.location.file}:${f.location.line}`);
  for (const edge of f.evidence.edges ?? []) lines.push(`edge: ${edge}`);
  for (const rule of f.evidence.rules ?? []) lines.push(`rule: ${rule.rule} (${rule.at})`);
  for (const note of f.evidence.notes ?? []) lines.push(note);
  if (f.remediation) lines.push(`fix: ${f.remediation.text}`);
  if (f.remediation?.yaml) lines.push(f.remediation.yaml);
  return lines.join('\n');
}

interface Case {
  name: string;
  finding: Finding;
}

function testcase(check: string, { name, finding: f }: Case): string {
  const open = `    <testcase classname="${xmlText(check)}" name="${xmlText(name)}" time="0"`;
  const out = `      <system-out>${xmlText(evidenceText(f))}</system-out>`;
  let verdict = '';
  if (f.status === 'fail' && !f.accepted) {
    const message = `${f.severity}: ${f.title}${f.objects.length ? ` (${name})` : ''}`;
    verdict = `      <failure message="${xmlText(message)}" type="${f.severity}">${xmlText(evidenceText(f))}</failure>\n`;
  } else if (f.status === 'fail') {
    // An accepted risk is neither a pass nor a build-breaking failure; skipped keeps it visible.
    verdict = `      <skipped message="${xmlText(`accepted until ${f.accepted?.until}: ${f.accepted?.reason}`)}"/>\n`;
  } else if (f.status === 'not-assessable') {
    const why = (f.evidence.notes ?? []).join(' ') || 'an input the check needs is absent';
    verdict = `      <skipped message="${xmlText(`not assessable: ${why}`)}"/>\n`;
  }
  return `${open}>\n${verdict}${out}\n    </testcase>`;
}

/**
 * JUnit XML for CI dashboards: a suite per check, a case per check and object. needs-review cases pass
 * with their evidence in system-out, since only a person can decide them and a build should not.
 */
export function renderAuditJunit(report: AuditReport): string {
  const timestamp = report.generatedAt.toISOString().replace(/\.\d+Z$/, '');
  const byCheck = new Map<string, Case[]>();
  for (const f of report.result.findings) {
    const list = byCheck.get(f.check) ?? [];
    byCheck.set(f.check, list);
    const names = f.objects.length ? f.objects : ['cluster'];
    for (const name of names) list.push({ name, finding: f });
  }
  const order = new Map(CATALOGUE.map((d, i) => [d.id, i]));
  const checks = [...byCheck.keys()].sort(
    (a, b) => (order.get(a) ?? order.size) - (order.get(b) ?? order.size) || a.localeCompare(b),
  );
  const totals = { tests: 0, failures: 0, skipped: 0 };
  const suites = checks.map((check) => {
    const cases = byCheck.get(check) ?? [];
    const failures = cases.filter((c) => c.finding.status === 'fail' && !c.finding.accepted).length;
    const skipped = cases.filter(
      (c) => c.finding.status === 'not-assessable' || (c.finding.status === 'fail' && c.finding.accepted),
    ).length;
    totals.tests += cases.length;
    totals.failures += failures;
    totals.skipped += skipped;
    const title = cases[0]?.finding.title ?? '';
    return [
      `  <testsuite name="${xmlText(`${check} ${title}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${timestamp}">`,
      ...cases.map((c) => testcase(check, c)),
      '  </testsuite>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- ${xmlText(`${DISCLAIMER} ${RETENTION_NOTE}`).replace(/--/g, '- -')} -->`,
    `<!-- Coverage:\n${coverageLines(coverageOf(report, VERSION))
      .map((l) => `  ${xmlText(l).replace(/--/g, '- -')}`)
      .join('\n')}\n-->`,
    `<testsuites name="phiwall audit" tests="${totals.tests}" failures="${totals.failures}" errors="0" skipped="${totals.skipped}" time="0" timestamp="${timestamp}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
