import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LINT_RULES, type LintProblem, type LintResult, type LintSeverity } from '../analysis/lint.ts';
import type { Snapshot } from '../model/types.ts';
import { VERSION } from '../version.ts';
import { PARTIAL_NOTE } from './explain.ts';

export const LINT_FORMATS = ['text', 'json', 'sarif'] as const;
export type LintFormat = (typeof LINT_FORMATS)[number];

export interface LintReport {
  snapshot: Snapshot;
  result: LintResult;
}

function summary(result: LintResult): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const infos = result.infos > 0 ? `, ${result.infos} info` : '';
  return `${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}${infos}`;
}

export function renderLintText(report: LintReport): string {
  const lines: string[] = [];
  if (report.snapshot.partial) lines.push(PARTIAL_NOTE, '');
  for (const p of report.result.problems) {
    lines.push(`${p.file}:${p.line}: ${p.severity} ${p.rule}: ${p.message}`, `  fix: ${p.fix}`);
  }
  if (report.result.problems.length === 0) lines.push('no problems found');
  else lines.push('', summary(report.result));
  return `${lines.join('\n')}\n`;
}

export function lintJson(report: LintReport) {
  return {
    version: VERSION,
    partial: report.snapshot.partial,
    summary: { errors: report.result.errors, warnings: report.result.warnings, infos: report.result.infos },
    problems: report.result.problems.map((p) => ({ ...p })),
  };
}

/** Relative paths stay relative, so code scanning resolves them against the checkout. */
function uriOf(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return encodeURI(path.replace(/\\/g, '/')).replace(/[?#]/g, encodeURIComponent);
}

/** Stable for the same rule and field across runs, so code scanning tracks one alert over time. */
function fingerprintOf(p: LintProblem): string {
  return createHash('sha256').update(`${p.rule}\0${p.path}\0${p.message}`).digest('hex');
}

/** SARIF has no `info` level; `note` is its word for it. */
function sarifLevel(severity: LintSeverity): 'error' | 'warning' | 'note' {
  return severity === 'info' ? 'note' : severity;
}

/** SARIF 2.1.0: one rule per lint rule, one result per problem at its file:line. */
export function lintSarif(report: LintReport) {
  const inputs = report.snapshot.inputs;
  const artifactIndex = new Map(inputs.map((input, i) => [input.path, i]));
  const ruleIndex = new Map(LINT_RULES.map((r, i) => [r.id, i]));
  const rules = LINT_RULES.map((r) => ({
    id: r.id,
    name: r.name,
    shortDescription: { text: r.title },
    fullDescription: { text: r.help },
    help: { text: `${r.title} (${r.id}, ${r.severity}). ${r.help} Each result names the fix.` },
    defaultConfiguration: { level: sarifLevel(r.severity) },
    properties: { tags: ['network-policy', 'lint'] },
  }));
  const results = report.result.problems.map((p) => {
    const index = artifactIndex.get(p.file);
    return {
      ruleId: p.rule,
      ...(ruleIndex.has(p.rule) ? { ruleIndex: ruleIndex.get(p.rule) } : {}),
      level: sarifLevel(p.severity),
      message: { text: `${p.message}\nFix: ${p.fix}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriOf(p.file), ...(index === undefined ? {} : { index }) },
            region: { startLine: Math.max(1, p.line) },
          },
        },
      ],
      partialFingerprints: { 'phiwall/v1': fingerprintOf(p) },
      properties: { policy: p.policy, path: p.path, fix: p.fix },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'phiwall', version: VERSION, semanticVersion: VERSION, rules } },
        invocations: [{ executionSuccessful: true }],
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

export function renderLint(report: LintReport, format: LintFormat): string {
  if (format === 'json') return `${JSON.stringify(lintJson(report), null, 2)}\n`;
  if (format === 'sarif') return `${JSON.stringify(lintSarif(report), null, 2)}\n`;
  return renderLintText(report);
}
