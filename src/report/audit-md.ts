import type { Finding, Status } from '../compliance/types.ts';
import { SEVERITIES } from '../compliance/types.ts';
import { VERSION } from '../version.ts';
import {
  type AuditReport,
  DISCLAIMER,
  enforcementBanner,
  RETENTION_NOTE,
  sortFindings,
  TRAFFIC_GROUPS,
  trafficEdgeText,
} from './audit.ts';
import { coverageLines, coverageOf, withDigest } from './audit-coverage.ts';

/**
 * Text from manifests, as inline Markdown that renders literally: no HTML, links, emphasis or table
 * breaks. Entities rather than backslashes for `<>&`, because GitHub passes raw HTML through in comments.
 */
export function mdText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~@#!]/g, '\\$&');
}

/** A fence longer than any backtick run inside, so untrusted YAML cannot close it early. */
export function fenced(text: string, language = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`;
}

const MARK: Record<Status, string> = {
  fail: '❌ fail',
  'needs-review': '⚠️ needs review',
  'not-assessable': '➖ not assessable',
  pass: '✅ pass',
};

const OBJECTS_IN_TABLE = 3;
/** GitHub refuses comments longer than 65,536 characters; the rest is left for the closing lines. */
export const COMMENT_BUDGET = 60_000;
const TABLE_ROWS = 100;

function objectsCell(objects: readonly string[]): string {
  if (objects.length === 0) return '–';
  const shown = objects.slice(0, OBJECTS_IN_TABLE).map(mdText).join(', ');
  return objects.length > OBJECTS_IN_TABLE ? `${shown} and ${objects.length - OBJECTS_IN_TABLE} more` : shown;
}

function statusCell(f: Finding): string {
  return f.accepted ? `${MARK[f.status]} (accepted)` : MARK[f.status];
}

function evidenceBlock(f: Finding): string[] {
  const objects = f.objects.length ? f.objects.map(mdText).join(', ') : 'the cluster';
  const lines = [
    '<details>',
    `<summary>${f.check} — ${mdText(f.title)} (${f.severity})</summary>`,
    '',
    `- **Status:** ${statusCell(f)}`,
    `- **HIPAA:** ${f.hipaa.map((h) => `45 CFR ${h}`).join('; ')}`,
    `- **Objects:** ${objects}`,
  ];
  if (f.accepted)
    lines.push(`- **Accepted until ${mdText(f.accepted.until)}:** ${mdText(f.accepted.reason)}`);
  if (f.location) lines.push(`- **Location:** ${mdText(`${f.location.file}:${f.location.line}`)}`);
  for (const edge of f.evidence.edges ?? []) lines.push(`- edge: ${mdText(edge)}`);
  for (const rule of f.evidence.rules ?? []) lines.push(`- rule: ${mdText(rule.rule)} (${mdText(rule.at)})`);
  for (const note of f.evidence.notes ?? []) lines.push(`- ${mdText(note)}`);
  if (f.remediation) {
    lines.push(`- **Fix:** ${mdText(f.remediation.text)}`);
    if (f.remediation.yaml) lines.push('', fenced(f.remediation.yaml, 'yaml'));
  }
  lines.push('', '</details>');
  return lines;
}

/** For pull-request comments: a summary table, failing findings first, evidence folded away. */
export function renderAuditMarkdown(report: AuditReport): string {
  const { summary, findings, phi } = report.result;
  const failing = SEVERITIES.reduce((n, s) => n + summary.failingBySeverity[s], 0);
  const lines = [
    `## phiwall HIPAA network-segmentation audit: ${failing ? `${failing} failing` : 'nothing failing'}`,
    '',
    `phiwall ${VERSION}, ${report.generatedAt.toISOString()}. ${DISCLAIMER}`,
    '',
  ];
  if (report.snapshot.partial)
    lines.push('> [!WARNING]', '> Partial input: invalid objects were left out (--skip-invalid).', '');
  const banner = enforcementBanner(report.result);
  if (banner) lines.push('> [!CAUTION]', `> ${mdText(banner)}`, '');
  lines.push(
    `| PHI workloads | Pass | Fail | Needs review | Not assessable | Accepted |`,
    '|---:|---:|---:|---:|---:|---:|',
    `| ${phi.length} | ${summary.byStatus.pass} | ${summary.byStatus.fail} | ${summary.byStatus['needs-review']} | ${summary.byStatus['not-assessable']} | ${summary.accepted} |`,
    '',
    `| Failing by severity | ${SEVERITIES.join(' | ')} |`,
    `|---|${SEVERITIES.map(() => '---:').join('|')}|`,
    `| not accepted | ${SEVERITIES.map((s) => summary.failingBySeverity[s]).join(' | ')} |`,
    '',
  );

  const causes = report.result.rootCauses;
  if (causes.length) {
    lines.push(
      `### Root causes (${causes.length})`,
      '',
      '| # | Severity | Root cause | Findings | Checks | Fix (checked by the engine) |',
      '|---:|---|---|---:|---|---|',
      ...causes
        .slice(0, TABLE_ROWS)
        .map(
          (c, i) =>
            `| ${i + 1} | ${c.severity} | ${mdText(c.title)} | ${c.findings.length} | ${c.checks.map((id) => id.replace('HIPAA-NP-', '')).join(', ')} | ${c.verification ? mdText(c.verification.text) : ''} |`,
        ),
      ...(causes.length > TABLE_ROWS ? ['', `…and ${causes.length - TABLE_ROWS} more root causes.`] : []),
      '',
    );
  }
  const sorted = sortFindings(findings);
  const open = sorted.filter((f) => f.status === 'fail' || f.status === 'needs-review');
  if (open.length) {
    lines.push(
      '### Findings',
      '',
      '| Status | Severity | Check | Title | Objects |',
      '|---|---|---|---|---|',
      ...open
        .slice(0, TABLE_ROWS)
        .map(
          (f) =>
            `| ${statusCell(f)} | ${f.severity} | ${f.check} | ${mdText(f.title)} | ${objectsCell(f.objects)} |`,
        ),
      ...(open.length > TABLE_ROWS ? ['', `…and ${open.length - TABLE_ROWS} more findings.`] : []),
      '',
      '### Evidence',
      '',
    );
    let size = lines.reduce((n, line) => n + line.length + 1, 0);
    let shown = 0;
    for (const f of open) {
      const block = [...evidenceBlock(f), ''];
      size += block.reduce((n, line) => n + line.length + 1, 0);
      if (size > COMMENT_BUDGET) break;
      lines.push(...block);
      shown++;
    }
    if (shown < open.length)
      lines.push(
        `Evidence of ${open.length - shown} more findings is left out so the comment fits; \`--format html\` or \`json\` has all of it.`,
        '',
      );
  }

  const unassessed = sorted.filter((f) => f.status === 'not-assessable');
  if (unassessed.length) {
    lines.push('<details>', `<summary>${unassessed.length} not assessable</summary>`, '');
    for (const f of unassessed) {
      const why = [...(f.evidence.notes ?? [])].map(mdText).join(' ');
      lines.push(`- ${f.check} ${mdText(f.title)}${why ? `: ${why}` : ''}`);
    }
    lines.push('', '</details>', '');
  }
  const passed = [...new Set(sorted.filter((f) => f.status === 'pass').map((f) => f.check))].sort();
  if (passed.length) lines.push(`**Passed:** ${passed.join(', ')}`, '');
  const traffic = report.result.traffic;
  if (traffic) {
    lines.push(
      '### Observed traffic vs policy (PHI workloads)',
      '',
      mdText(
        `${traffic.files.join(', ')}: ${traffic.records} records, ${traffic.flows} flows${traffic.window ? ` from ${traffic.window.from} to ${traffic.window.to}` : ''}`,
      ),
      '',
    );
    for (const [key, title] of TRAFFIC_GROUPS) {
      lines.push(`- **${title}:** ${traffic[key].length}`);
      for (const e of traffic[key]) lines.push(`  - ${mdText(trafficEdgeText(e))}`);
    }
    lines.push(`- **Allowed but never seen:** ${traffic.unused.length}`, '');
  }
  lines.push(
    '<details>',
    '<summary>Coverage</summary>',
    '',
    ...coverageLines(coverageOf(report, VERSION)).map((l) => `- ${mdText(l)}`),
    '',
    '</details>',
    '',
  );
  lines.push(`<sub>${RETENTION_NOTE}</sub>`, '');
  return withDigest(`${lines.join('\n')}`, '<sub>Report SHA-256 (of the text above): ').replace(
    /\n$/,
    '</sub>\n',
  );
}
