import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOGUE } from '../compliance/catalogue.ts';
import type { Finding, Severity } from '../compliance/types.ts';
import { VERSION } from '../version.ts';
import { type AuditReport, DISCLAIMER, sortFindings } from './audit.ts';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** Relative paths stay relative, so code scanning resolves them against the checkout. */
function uriOf(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return encodeURI(path.replace(/\\/g, '/')).replace(/[?#]/g, encodeURIComponent);
}

function messageOf(f: Finding): string {
  const parts = [
    `${f.status === 'needs-review' ? 'Needs review: ' : ''}${f.title}`,
    f.objects.length ? `Objects: ${f.objects.join(', ')}.` : '',
    ...(f.evidence.edges ?? []).map((edge) => `Edge: ${edge}.`),
    ...(f.evidence.rules ?? []).map((r) => `Rule: ${r.rule} (${r.at}).`),
    ...(f.evidence.notes ?? []),
    f.remediation ? `Fix: ${f.remediation.text}` : '',
  ];
  return parts.filter(Boolean).join('\n');
}

/** Stable across runs for the same check and objects, so code scanning tracks one alert over time. */
function fingerprintOf(f: Finding): string {
  return createHash('sha256')
    .update(`${f.check}\0${[...f.objects].sort().join('\0')}`)
    .digest('hex');
}

/**
 * SARIF 2.1.0: one rule per catalogue check; failing and needs-review findings as results, accepted
 * ones suppressed rather than dropped so the acceptance stays on record.
 */
export function auditSarif(report: AuditReport) {
  const inputs = report.snapshot.inputs;
  const artifactIndex = new Map(inputs.map((input, i) => [input.path, i]));
  const ruleIndex = new Map(CATALOGUE.map((d, i) => [d.id, i]));
  const rules = CATALOGUE.map((d) => {
    const sections = d.hipaa.map((h) => `45 CFR ${h}`).join('; ');
    return {
      id: d.id,
      name: d.id.replace(/-/g, ''),
      shortDescription: { text: d.title },
      fullDescription: { text: `${d.title}. Supports HIPAA Security Rule safeguards ${sections}.` },
      help: {
        text: `${d.title} (${d.id}, severity ${d.severity}). HIPAA references: ${sections}. Each result names the affected objects, the evidence (allowed edges, responsible rules with file:line) and a remediation. ${DISCLAIMER}`,
      },
      defaultConfiguration: { level: LEVEL[d.severity] },
      properties: { severity: d.severity, hipaa: [...d.hipaa], tags: ['hipaa', 'network-policy'] },
    };
  });
  const results = sortFindings(report.result.findings)
    .filter((f) => f.status === 'fail' || f.status === 'needs-review')
    .map((f) => {
      const file = f.location?.file ?? inputs[0]?.path;
      const index = file === undefined ? undefined : artifactIndex.get(file);
      const location =
        file === undefined
          ? undefined
          : {
              physicalLocation: {
                artifactLocation: { uri: uriOf(file), ...(index === undefined ? {} : { index }) },
                region: { startLine: Math.max(1, f.location?.line ?? 1) },
              },
            };
      return {
        ruleId: f.check,
        ...(ruleIndex.has(f.check) ? { ruleIndex: ruleIndex.get(f.check) } : {}),
        level: LEVEL[f.severity],
        message: { text: messageOf(f) },
        ...(location ? { locations: [location] } : {}),
        partialFingerprints: { 'phiwall/v1': fingerprintOf(f) },
        ...(f.accepted
          ? {
              suppressions: [
                {
                  kind: 'external',
                  status: 'accepted',
                  justification: `${f.accepted.reason} (accepted until ${f.accepted.until})`,
                },
              ],
            }
          : {}),
        properties: {
          status: f.status,
          severity: f.severity,
          hipaa: [...f.hipaa],
          objects: f.objects,
          ...(f.remediation?.yaml ? { remediationYaml: f.remediation.yaml } : {}),
        },
      };
    });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'phiwall', version: VERSION, semanticVersion: VERSION, rules } },
        invocations: [{ executionSuccessful: true, endTimeUtc: report.generatedAt.toISOString() }],
        artifacts: inputs.map((input) => ({
          location: { uri: uriOf(input.path) },
          hashes: { 'sha-256': input.sha256 },
        })),
        results,
        properties: { partial: report.snapshot.partial },
      },
    ],
  };
}

export function renderAuditSarif(report: AuditReport): string {
  return `${JSON.stringify(auditSarif(report), null, 2)}\n`;
}
