import { createHash } from 'node:crypto';
import type { AuditResult } from '../compliance/audit.ts';
import type { RootCause } from '../compliance/root-causes.ts';
import type { Finding } from '../compliance/types.ts';
import { REPOSITORY_URL } from '../version.ts';
import { fenced } from './audit-md.ts';

export interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId?: string; index?: number };
    region: { startLine: number };
  };
}

type Locate = (file: string | undefined, line: number | undefined) => SarifLocation | undefined;

/**
 * GitHub shows 100 locations of a result and rejects a file with a result past 1,000: a root cause
 * names this many places of its findings, and how many more there are.
 */
export const MAX_RELATED = 100;
/** Places linked from the message, the part of a result code scanning shows. */
const MAX_LINKED = 10;
/** Findings named in one related location's message. */
const MAX_NAMED = 5;

/** Root-cause kinds, as the first part of a root cause's id, with what a rule of that kind reports. */
const KINDS = {
  'default-deny': 'A namespace with PHI workloads has no default-deny policy',
  isolation: 'A PHI workload is not isolated in one direction',
  rule: 'One policy rule admits what several findings report',
  object: 'One object is behind several findings',
  review: 'One question for a person, asked of many flows or ports',
} as const;
type Kind = keyof typeof KINDS;

/** The docs section saying how root-cause results relate to the findings' results. */
export const ROOT_CAUSE_HELP_URI = `${REPOSITORY_URL}/blob/main/docs/hipaa-checks.md#root-causes-in-sarif`;

function kindOf(cause: RootCause): Kind {
  const prefix = cause.id.slice(0, cause.id.indexOf(':'));
  return prefix in KINDS ? (prefix as Kind) : 'object';
}

export function rootCauseRuleId(kind: string): string {
  return `phiwall/root-cause/${kind}`;
}

/**
 * One rule per kind. No `security-severity` and `note` level: the findings a root cause groups are
 * results of their own, with their checks' severities, so GitHub counts each problem once, there.
 */
function rules() {
  return Object.entries(KINDS).map(([kind, text]) => ({
    id: rootCauseRuleId(kind),
    name: `RootCause${kind.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase())}`,
    shortDescription: { text },
    fullDescription: {
      text: `${text}: the failing and needs-review findings one change fixes, grouped under one root cause.`,
    },
    helpUri: ROOT_CAUSE_HELP_URI,
    help: {
      text: "A root cause names the findings one change fixes as related locations, with that change (the fix) and what the engine found when it applied the fix to the input. Each of those findings is also a result of its own, under its check's rule, with its check's severity: the root cause adds no alert to the severity counts (it is a note without security-severity).",
    },
    defaultConfiguration: { level: 'note' as const },
    properties: { precision: 'high', tags: ['security', 'hipaa', 'network-policy', 'root-cause'] },
  }));
}

/** SARIF link text: brackets escaped, as §3.11.6 asks. */
function linkText(text: string): string {
  return text.replace(/[[\]\\]/g, (c) => `\\${c}`);
}

const named = (f: Finding) => `${f.check} ${f.objects.join(', ')}`.trim();

/** The finding whose place stands for the root cause: the one that names the cause itself, else the first. */
function primaryOf(cause: RootCause, findings: readonly Finding[]): Finding | undefined {
  const kind = kindOf(cause);
  const own =
    kind === 'default-deny'
      ? findings.find((f) => f.check === 'HIPAA-NP-007')
      : kind === 'isolation'
        ? findings.find((f) => f.check === 'HIPAA-NP-005' || f.check === 'HIPAA-NP-006')
        : undefined;
  return own ?? findings.find((f) => f.location) ?? findings[0];
}

/**
 * A result per root cause (rule `phiwall/root-cause/<kind>`): at the place of the finding that names it,
 * its findings' places as related locations (linked from the message, where code scanning shows
 * them), the fix and the engine's check of it in the message. Suppressed when all its findings are.
 */
export function rootCauseResults(
  result: Pick<AuditResult, 'findings' | 'rootCauses'>,
  locate: Locate,
  fallbackFile: string | undefined,
  firstRuleIndex: number,
) {
  const kinds = Object.keys(KINDS);
  const placeOf = (f: Finding) => locate(f.location?.file ?? fallbackFile, f.location?.line);
  const results = result.rootCauses.map((cause) => {
    const findings = cause.findings.map((i) => result.findings[i] as Finding);
    const places = new Map<string, { location: SarifLocation; findings: Finding[] }>();
    for (const f of findings) {
      const location = placeOf(f);
      if (!location) continue;
      const key = JSON.stringify(location);
      const place = places.get(key);
      if (place) place.findings.push(f);
      else places.set(key, { location, findings: [f] });
    }
    const related = [...places.values()].slice(0, MAX_RELATED).map((place, i) => {
      const shown = place.findings.slice(0, MAX_NAMED).map(named);
      const more = place.findings.length - shown.length;
      return {
        id: i + 1,
        ...place.location,
        message: { text: `${shown.join('; ')}${more > 0 ? `; … ${more} more here` : ''}` },
      };
    });
    const links = related
      .slice(0, MAX_LINKED)
      .map((r) => `[${linkText(r.message.text.split('; ')[0] as string)}](${r.id})`);
    const rest =
      places.size > links.length
        ? `, … (${places.size} places in all${places.size > related.length ? `, the first ${related.length} listed as related locations` : ''})`
        : '';
    const primary = primaryOf(cause, findings);
    const location = primary && placeOf(primary);
    const kind = kindOf(cause);
    const lines = [
      `Root cause (${cause.severity}): ${cause.title}.`,
      `${findings.length} finding(s) of ${cause.checks.join(', ')}, each also a result under its check: ${links.join(', ')}${rest}.`,
      cause.remediation ? `Fix: ${cause.remediation.text}` : '',
      cause.verification ? `Fix check: ${cause.verification.text}.` : '',
    ].filter(Boolean);
    const yaml = cause.remediation?.yaml;
    const allAccepted = findings.length > 0 && findings.every((f) => f.accepted);
    return {
      ruleId: rootCauseRuleId(kind),
      ruleIndex: firstRuleIndex + kinds.indexOf(kind),
      level: 'note' as const,
      message: {
        // Code scanning shows the text, not properties or markdown: the manifest goes here too.
        text: [...lines, ...(yaml ? ['', yaml.trimEnd()] : [])].join('\n'),
        markdown: `${lines.join('  \n')}${yaml ? `\n\n${fenced(yaml, 'yaml')}` : ''}\n`,
      },
      ...(location ? { locations: [location] } : {}),
      ...(related.length ? { relatedLocations: related } : {}),
      partialFingerprints: {
        'phiwall/v1': createHash('sha256').update(`root-cause\0${cause.id}`).digest('hex'),
      },
      ...(allAccepted
        ? {
            suppressions: [
              { kind: 'external', status: 'accepted', justification: 'every finding of it is accepted' },
            ],
          }
        : {}),
      properties: {
        rootCause: cause.id,
        severity: cause.severity,
        checks: cause.checks,
        findings: findings.length,
        ...(cause.folded ? { folded: cause.folded } : {}),
        ...(cause.verification ? { fixCheck: cause.verification.status } : {}),
        ...(yaml ? { remediationYaml: yaml } : {}),
      },
    };
  });
  return { rules: rules(), results };
}
