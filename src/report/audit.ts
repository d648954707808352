import type { AuditResult, PhiTraffic, TrafficEdge } from '../compliance/audit.ts';
import type { AuditConfig } from '../compliance/config.ts';
import { type Finding, SEVERITIES } from '../compliance/types.ts';
import type { Snapshot } from '../model/types.ts';
import { VERSION } from '../version.ts';
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
  return {
    tool: { name: 'phiwall', version: VERSION, generatedAt: report.generatedAt.toISOString() },
    inputs: report.snapshot.inputs,
    config: { ...report.config, ...(report.configSource ? { source: report.configSource } : {}) },
    summary: report.result.summary,
    phi: report.result.phi,
    findings: report.result.findings,
    ...(report.result.traffic ? { traffic: trafficJson(report.result.traffic) } : {}),
    partial: report.snapshot.partial,
    retention: RETENTION_NOTE,
  };
}

export function renderAuditText(report: AuditReport): string {
  const { summary, findings, phi } = report.result;
  const lines = [
    `phiwall ${VERSION} HIPAA network-segmentation audit — ${report.generatedAt.toISOString()}`,
    DISCLAIMER,
  ];
  if (report.snapshot.partial) lines.push('PARTIAL: invalid objects were left out (--skip-invalid)');
  lines.push(
    '',
    `PHI workloads: ${phi.length}`,
    `Checks: ${Object.entries(summary.byStatus)
      .map(([status, n]) => `${n} ${status}`)
      .join(', ')}${summary.accepted ? ` (${summary.accepted} accepted)` : ''}`,
    `Failing by severity: ${SEVERITIES.map((s) => `${s} ${summary.failingBySeverity[s]}`).join(', ')}`,
    '',
  );
  for (const f of sortFindings(findings)) {
    if (f.status === 'pass') continue;
    const mark = f.accepted ? ` [accepted until ${f.accepted.until}: ${f.accepted.reason}]` : '';
    lines.push(`${f.status.toUpperCase()} ${f.severity} ${f.check} ${f.title}${mark}`);
    if (f.objects.length) lines.push(`  objects: ${f.objects.join(', ')}`);
    for (const edge of f.evidence.edges ?? []) lines.push(`  edge: ${edge}`);
    for (const rule of f.evidence.rules ?? []) lines.push(`  rule: ${rule.rule} (${rule.at})`);
    for (const note of f.evidence.notes ?? []) lines.push(`  ${note}`);
    if (f.remediation) lines.push(`  fix: ${f.remediation.text}`);
  }
  const passed = findings.filter((f) => f.status === 'pass').map((f) => f.check);
  if (passed.length) lines.push('', `Passed: ${passed.join(', ')}`);
  if (report.result.traffic) lines.push('', ...trafficLines(report.result.traffic));
  lines.push('', RETENTION_NOTE);
  return `${lines.join('\n')}\n`;
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
