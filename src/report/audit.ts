import type { AuditResult, PhiTraffic, TrafficEdge } from '../compliance/audit.ts';
import { CATALOGUE } from '../compliance/catalogue.ts';
import type { AuditConfig } from '../compliance/config.ts';
import type { RootCause } from '../compliance/root-causes.ts';
import { type Finding, type Remediation, SEVERITIES, type Severity } from '../compliance/types.ts';
import type { Snapshot } from '../model/types.ts';
import { VERSION } from '../version.ts';
import { coverageLines, coverageOf, type RunDetails, sha256, withDigest } from './audit-coverage.ts';
import { responsibleJson, responsibleLines } from './diff.ts';

export interface AuditReport {
  result: AuditResult;
  snapshot: Snapshot;
  config: AuditConfig;
  configSource?: { path: string; sha256: string };
  generatedAt: Date;
  /**
   * Allowed connections into, out of and between PHI workloads, for the HTML flow map. Optional because
   * computing them repeats the connectivity analysis; without them the map is read from HIPAA-NP-032's edges.
   */
  flows?: FlowEdge[];
  /** `root-cause` (default): root causes first, their findings nested; `check`: the per-check view. */
  by?: 'root-cause' | 'check';
  /** False leaves remediation manifests out of the text and Markdown reports (`--no-remediation`). */
  remediation?: boolean;
  /** How and where the audit ran, for the coverage statement. */
  run?: RunDetails;
  /** Text only: the counts and the root-cause list, nothing that changes from run to run (`--summary`). */
  summaryOnly?: boolean;
}

/** One allowed connection; a peer is a workload id or external CIDRs joined by commas. */
export interface FlowEdge {
  src: string;
  dst: string;
  ports: string;
}

const STATUS_ORDER = { fail: 0, 'needs-review': 1, 'not-assessable': 2, pass: 3 } as const;

/** Failing findings first, accepted ones after the rest of their status, then by severity: the order a reader acts in. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      Number(Boolean(a.accepted)) - Number(Boolean(b.accepted)) ||
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
  );
}

export const DISCLAIMER = 'Findings support HIPAA Security Rule safeguards; they do not certify compliance.';

export const RETENTION_NOTE =
  'HIPAA requires documentation of these safeguards to be kept 6 years (45 CFR 164.316(b)(2)).';

export function auditJson(report: AuditReport) {
  const body = {
    tool: { name: 'phiwall', version: VERSION, generatedAt: report.generatedAt.toISOString() },
    inputs: report.snapshot.inputs,
    config: { ...report.config, ...(report.configSource ? { source: report.configSource } : {}) },
    summary: report.result.summary,
    phi: report.result.phi,
    findings: report.result.findings,
    rootCauses: report.result.rootCauses,
    ...(report.result.traffic ? { traffic: trafficJson(report.result.traffic) } : {}),
    partial: report.snapshot.partial,
    retention: RETENTION_NOTE,
    coverage: coverageOf(report, VERSION),
  };
  // The digest covers the whole document as written without it: replace it with "" to check a copy.
  const digest = sha256(
    JSON.stringify({ ...body, coverage: { ...body.coverage, reportSha256: '' } }, null, 2),
  );
  return { ...body, coverage: { ...body.coverage, reportSha256: digest } };
}

/** Counts, each labelled as what it counts: checks, root causes and findings are different things. */
export function summaryLines(result: AuditResult): string[] {
  const { summary } = result;
  const severities = (counts: Record<Severity, number>) =>
    SEVERITIES.filter((s) => counts[s] > 0)
      .map((s) => `${s} ${counts[s]}`)
      .join(', ') || 'none';
  const open = SEVERITIES.reduce((n, s) => n + summary.findingsBySeverity[s], 0);
  return [
    `PHI workloads: ${result.phi.length}`,
    `Checks (${CATALOGUE_SIZE}): ${Object.entries(summary.checksByStatus)
      .map(([status, n]) => `${n} ${status}`)
      .join(', ')}`,
    `Root causes: ${result.rootCauses.length} (${severities(summary.rootCausesBySeverity)})`,
    `Findings failing or needing review: ${open} (${severities(summary.findingsBySeverity)})${summary.accepted ? `; ${summary.accepted} accepted` : ''}`,
  ];
}

const CATALOGUE_SIZE = CATALOGUE.length;

/** Where a finding points, or why it points nowhere. */
export function findingAt(f: Finding): string {
  return f.location ? `${f.location.file}:${f.location.line}` : 'no file (an implicit object)';
}

function findingLines(f: Finding, indent: string, fix: 'text' | 'yaml' | 'none'): string[] {
  const mark = f.accepted ? ` [accepted until ${f.accepted.until}: ${f.accepted.reason}]` : '';
  const lines = [`${indent}${f.status.toUpperCase()} ${f.severity} ${f.check} ${f.title}${mark}`];
  const inner = `${indent}  `;
  if (f.objects.length) lines.push(`${inner}objects: ${f.objects.join(', ')}`);
  if (f.location || f.objects.length) lines.push(`${inner}at: ${findingAt(f)}`);
  for (const edge of f.evidence.edges ?? []) lines.push(`${inner}edge: ${edge}`);
  for (const rule of f.evidence.rules ?? []) lines.push(`${inner}rule: ${rule.rule} (${rule.at})`);
  for (const note of f.evidence.notes ?? []) lines.push(`${inner}${note}`);
  if (f.remediation && fix !== 'none') lines.push(...remediationLines(f.remediation, inner, fix === 'yaml'));
  return lines;
}

function remediationLines(remediation: Remediation, indent: string, yaml: boolean): string[] {
  const lines = [`${indent}fix: ${remediation.text}`];
  if (yaml && remediation.yaml)
    lines.push(
      ...remediation.yaml
        .trimEnd()
        .split('\n')
        .map((line) => `${indent}    ${line}`),
    );
  return lines;
}

/** The banner every format shows when enforcement is unknown: every other result assumes it. */
export function enforcementBanner(result: AuditResult): string | undefined {
  const cni = result.findings.find((f) => f.check === 'HIPAA-NP-002');
  if (cni?.status !== 'not-assessable') return undefined;
  return 'ENFORCEMENT NOT ASSESSED: no network plugin was found in the input (HIPAA-NP-002 not-assessable); every result below assumes that NetworkPolicies are enforced.';
}

/** Root causes shown in the summary list; the rest are counted, and all are detailed below it. */
const SUMMARY_ROOT_CAUSES = 20;

/** How the engine's check of a root cause's fix reads in the lists of every format. */
function fixCheckWord(cause: RootCause): string {
  const status = cause.verification?.status;
  return status === 'verified'
    ? 'fix verified'
    : status === 'breaks-approved-flows'
      ? 'fix breaks approved flows'
      : status === 'not-verified'
        ? 'fix not verified'
        : 'fix not checked';
}

/** The root-cause list that leads the text report, short enough for one screen. */
function rootCauseSummary(rootCauses: readonly RootCause[]): string[] {
  if (rootCauses.length === 0) return [];
  const lines = ['Root causes:'];
  rootCauses.slice(0, SUMMARY_ROOT_CAUSES).forEach((cause, i) => {
    lines.push(
      `${String(i + 1).padStart(3)}. ${cause.severity.toUpperCase()} ${cause.title} — ${cause.findings.length} finding(s): ${cause.checks.map((c) => c.replace('HIPAA-NP-', '')).join(', ')}; ${fixCheckWord(cause)}`,
    );
  });
  if (rootCauses.length > SUMMARY_ROOT_CAUSES)
    lines.push(
      `     … and ${rootCauses.length - SUMMARY_ROOT_CAUSES} more root causes (all of them below, and in --format json)`,
    );
  return lines;
}

export function renderAuditText(report: AuditReport): string {
  const { findings, rootCauses } = report.result;
  const yaml = report.remediation !== false;
  const lines = report.summaryOnly
    ? [DISCLAIMER]
    : [
        `phiwall ${VERSION} HIPAA network-segmentation audit — ${report.generatedAt.toISOString()}`,
        DISCLAIMER,
      ];
  const banner = enforcementBanner(report.result);
  if (banner) lines.push(banner);
  if (report.snapshot.partial) lines.push('PARTIAL: invalid objects were left out (--skip-invalid)');
  lines.push('', ...summaryLines(report.result), '');
  if (report.by === 'check') {
    for (const f of sortFindings(findings)) {
      if (f.status === 'pass') continue;
      lines.push(...findingLines(f, '', yaml ? 'yaml' : 'text'));
    }
  } else {
    lines.push(...rootCauseSummary(rootCauses));
    if (report.summaryOnly) return `${lines.join('\n')}\n`;
    rootCauses.forEach((cause, i) => {
      lines.push('', `${i + 1}. ${cause.severity.toUpperCase()} ${cause.title} [${cause.id}]`);
      lines.push(`  objects: ${cause.objects.join(', ')}`);
      if (cause.folded)
        lines.push(
          `  stands for ${cause.folded.length} alike root causes: ${cause.folded.slice(0, 10).join(', ')}${cause.folded.length > 10 ? ', … (all in --format json)' : ''}`,
        );
      if (cause.remediation) lines.push(...remediationLines(cause.remediation, '  ', yaml));
      if (cause.verification) lines.push(`  fix check: ${cause.verification.text}`);
      lines.push('  findings:');
      for (const index of cause.findings) {
        const f = findings[index] as Finding;
        // One remediation per root cause; a finding's own advice is shown in words where it differs.
        const own = f.remediation && f.remediation.text !== cause.remediation?.text;
        lines.push(...findingLines(f, '    ', own ? 'text' : 'none'));
      }
    });
    const notAssessable = findings.filter((f) => f.status === 'not-assessable');
    if (notAssessable.length) {
      lines.push('', 'Not assessable:');
      for (const f of notAssessable) lines.push(...findingLines(f, '  ', 'text'));
    }
  }
  const passed = findings.filter((f) => f.status === 'pass').map((f) => f.check);
  if (passed.length) lines.push('', `Passed: ${[...new Set(passed)].join(', ')}`);
  if (report.result.traffic) lines.push('', ...trafficLines(report.result.traffic));
  lines.push('', 'Coverage:', ...coverageLines(coverageOf(report, VERSION)).map((l) => `  ${l}`));
  lines.push('', RETENTION_NOTE);
  return withDigest(`${lines.join('\n')}\n`);
}

export const TRAFFIC_GROUPS = [
  ['gaps', 'Forwarded although policy denies it (enforcement gap)'],
  ['needed', 'Dropped, and denied by policy'],
  ['droppedAllowed', 'Dropped although policy allows it'],
  ['used', 'Allowed and used'],
] as const;

export function trafficEdgeText(e: TrafficEdge): string {
  return `${e.src} -> ${e.dst} ${e.protocol} ${e.port}: ${e.count} flow(s), first at ${e.at}`;
}

/** The observed-traffic section: flow logs beside policy, for PHI workloads only. */
export function trafficLines(t: PhiTraffic): string[] {
  const lines = [
    `Observed traffic vs policy (PHI workloads): ${t.files.join(', ')}; ${t.records} records, ${t.flows} flows${t.window ? ` from ${t.window.from} to ${t.window.to}` : ''}${t.unmapped ? `; ${t.unmapped} not matched to the manifests` : ''}`,
  ];
  for (const [key, title] of TRAFFIC_GROUPS) {
    lines.push(`  ${title}: ${t[key].length}`);
    for (const e of t[key]) {
      lines.push(`    ${trafficEdgeText(e)}`);
      if (key !== 'used') lines.push(...responsibleLines(e.responsible).map((l) => `      ${l}`));
    }
  }
  lines.push(`  Allowed but never seen (tightening candidates): ${t.unused.length}`);
  for (const u of t.unused) {
    lines.push(
      `    ${u.src} => ${u.dst} : ${u.ports}`,
      ...responsibleLines(u.responsible).map((l) => `      ${l}`),
    );
  }
  return lines;
}

function trafficJson(t: PhiTraffic) {
  const edge = (e: TrafficEdge) => ({ ...e, responsible: responsibleJson(e.responsible) });
  return {
    ...t,
    gaps: t.gaps.map(edge),
    needed: t.needed.map(edge),
    droppedAllowed: t.droppedAllowed.map(edge),
    used: t.used.map(edge),
    unused: t.unused.map((u) => ({ ...u, responsible: responsibleJson(u.responsible) })),
  };
}
