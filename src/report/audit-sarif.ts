import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOGUE } from '../compliance/catalogue.ts';
import type { Finding, Severity } from '../compliance/types.ts';
import { REPOSITORY_URL, VERSION } from '../version.ts';
import { type AuditReport, DISCLAIMER, sortFindings } from './audit.ts';
import { coverageOf } from './audit-coverage.ts';
import { fenced } from './audit-md.ts';
import { rootCauseResults } from './audit-sarif-root-causes.ts';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub's code-scanning thresholds: above 9 critical, 7 to 8.9 high, 4 to 6.9 medium, below 4 low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/**
 * A check's row in docs/hipaa-checks.md (each row carries an anchor of the lower-cased id), in the
 * repository package.json names: SARIF wants an absolute URI, and code scanning links it from the alert.
 */
export function checkHelpUri(check: string): string {
  return `${REPOSITORY_URL}/blob/main/docs/hipaa-checks.md#${check.toLowerCase()}`;
}

function encodePath(path: string): string {
  return encodeURI(path.replace(/\\/g, '/')).replace(/[?#]/g, encodeURIComponent);
}

/**
 * Paths under the source root become relative to it with `uriBaseId: %SRCROOT%`, which code scanning
 * maps onto the checkout; other relative paths stay relative; only paths outside the root stay absolute.
 */
function locationOf(path: string, root: string | undefined): { uri: string; uriBaseId?: string } {
  if (root !== undefined) {
    const inside = relative(root, resolve(root, path));
    if (!inside.startsWith('..') && !isAbsolute(inside))
      return { uri: encodePath(inside), uriBaseId: '%SRCROOT%' };
  }
  if (isAbsolute(path)) return { uri: pathToFileURL(path).href };
  return { uri: encodePath(path) };
}

/** `fixCheck`: what the engine found when it applied the fix of the finding's root cause. */
function messageOf(f: Finding, fixCheck?: string): string {
  const parts = [
    `${f.status === 'needs-review' ? 'Needs review: ' : ''}${f.title}`,
    f.rootCause ? `Root cause: ${f.rootCause}.` : '',
    f.objects.length ? `Objects: ${f.objects.join(', ')}.` : '',
    ...(f.evidence.edges ?? []).map((edge) => `Edge: ${edge}.`),
    ...(f.evidence.rules ?? []).map((r) => `Rule: ${r.rule} (${r.at}).`),
    ...(f.evidence.notes ?? []),
    f.remediation ? `Fix: ${f.remediation.text}` : '',
    fixCheck ? `Fix check (root cause ${f.rootCause}): ${fixCheck}.` : '',
    // Code scanning shows the message, not properties: the manifest the fix refers to goes here.
    f.remediation?.yaml ? `\n${f.remediation.yaml}` : '',
  ];
  return parts.filter(Boolean).join('\n');
}

function markdownOf(f: Finding, fixCheck?: string): string | undefined {
  if (!f.remediation?.yaml) return undefined;
  const text = messageOf({ ...f, remediation: { text: f.remediation.text } }, fixCheck);
  return `${text.split('\n').join('  \n')}\n\n${fenced(f.remediation.yaml, 'yaml')}\n`;
}

function rootUri(root: string): string {
  const href = pathToFileURL(root).href;
  return href.endsWith('/') ? href : `${href}/`;
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
  const root = report.run?.repository?.root ?? report.run?.sourceRoot;
  const coverage = coverageOf(report, VERSION);
  const artifactIndex = new Map(inputs.map((input, i) => [input.path, i]));
  const ruleIndex = new Map(CATALOGUE.map((d, i) => [d.id, i]));
  const fixChecks = new Map(
    report.result.rootCauses.flatMap((c) => (c.verification ? [[c.id, c.verification.text] as const] : [])),
  );
  const rules = CATALOGUE.map((d) => {
    const sections = d.hipaa.map((h) => `45 CFR ${h}`).join('; ');
    return {
      id: d.id,
      name: d.id.replace(/-/g, ''),
      shortDescription: { text: d.title },
      fullDescription: { text: `${d.title}. Supports HIPAA Security Rule safeguards ${sections}.` },
      helpUri: checkHelpUri(d.id),
      help: {
        text: `${d.title} (${d.id}, severity ${d.severity}). HIPAA references: ${sections}. Each result names the affected objects, the evidence (allowed edges, responsible rules with file:line) and a remediation. ${DISCLAIMER}`,
      },
      defaultConfiguration: { level: LEVEL[d.severity] },
      properties: {
        severity: d.severity,
        'security-severity': SECURITY_SEVERITY[d.severity],
        precision: 'high',
        hipaa: [...d.hipaa],
        tags: ['security', 'hipaa', 'network-policy', ...d.hipaa.map((h) => `hipaa-${h}`)],
      },
    };
  });
  const locate = (file: string | undefined, line: number | undefined) => {
    if (file === undefined) return undefined;
    const index = artifactIndex.get(file);
    return {
      physicalLocation: {
        artifactLocation: { ...locationOf(file, root), ...(index === undefined ? {} : { index }) },
        region: { startLine: Math.max(1, line ?? 1) },
      },
    };
  };
  const findingResults = sortFindings(report.result.findings)
    .filter((f) => f.status === 'fail' || f.status === 'needs-review')
    .map((f) => {
      const location = locate(f.location?.file ?? inputs[0]?.path, f.location?.line);
      return {
        ruleId: f.check,
        ...(ruleIndex.has(f.check) ? { ruleIndex: ruleIndex.get(f.check) } : {}),
        level: LEVEL[f.severity],
        message: {
          text: messageOf(f, fixChecks.get(f.rootCause ?? '')),
          ...(markdownOf(f) ? { markdown: markdownOf(f, fixChecks.get(f.rootCause ?? '')) } : {}),
        },
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
          ...(f.rootCause ? { rootCause: f.rootCause } : {}),
          ...(f.remediation?.yaml ? { remediationYaml: f.remediation.yaml } : {}),
        },
      };
    });
  const causes = rootCauseResults(report.result, locate, inputs[0]?.path, CATALOGUE.length);
  const results = [...findingResults, ...causes.results];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'phiwall',
            version: VERSION,
            semanticVersion: VERSION,
            rules: [...rules, ...causes.rules],
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            ...(coverage.commandLine ? { commandLine: coverage.commandLine } : {}),
            ...(coverage.startedAt ? { startTimeUtc: coverage.startedAt } : {}),
            endTimeUtc: report.generatedAt.toISOString(),
            ...(coverage.host ? { machine: coverage.host } : {}),
            ...(coverage.user ? { account: coverage.user } : {}),
          },
        ],
        ...(root === undefined ? {} : { originalUriBaseIds: { '%SRCROOT%': { uri: rootUri(root) } } }),
        ...(report.run?.repository
          ? {
              versionControlProvenance: [
                {
                  repositoryUri: rootUri(report.run.repository.root),
                  revisionId: report.run.repository.commit,
                },
              ],
            }
          : {}),
        artifacts: inputs.map((input) => ({
          location: locationOf(input.path, root),
          hashes: { 'sha-256': input.sha256 },
        })),
        results,
        properties: {
          partial: report.snapshot.partial,
          rootCauses: report.result.rootCauses.map(
            ({ id, title, severity, checks, findings, verification }) => ({
              id,
              title,
              severity,
              checks,
              findings: findings.length,
              ...(verification ? { fixCheck: verification.text } : {}),
            }),
          ),
          coverage,
        },
      },
    ],
  };
}

export function renderAuditSarif(report: AuditReport): string {
  return `${JSON.stringify(auditSarif(report), null, 2)}\n`;
}
