import { definitionOf } from './catalogue.ts';
import { workloadIsolation } from './checks/util-attribution.ts';
import { type AuditContext, type Finding, type Remediation, SEVERITIES, type Severity } from './types.ts';

/**
 * Findings that one change would fix, under one title: "namespace records has no default-deny" with
 * the workloads and checks it fails, "ingress rule X accepts ingress from every namespace", or one
 * object's problems. The stable `id` lets history and suppressions follow a root cause across runs.
 */
export interface RootCause {
  id: string;
  title: string;
  /** The highest severity of its findings that are not accepted (of all of them when all are). */
  severity: Severity;
  objects: string[];
  checks: string[];
  /** Indexes into the audit's `findings`. */
  findings: number[];
  remediation?: Remediation;
}

const INGRESS = new Set(['005', '009', '010', '011', '012', '013', '014', '015', '020', '031']);
const EGRESS = new Set(['006', '016', '017', '018', '019']);

/** The rule a piece of rule evidence names, without the peer index or the ports it grants. */
function ruleKey(rule: string): string {
  const policyRule = /^(\S+#spec\.(?:ingress|egress)\[\d+\])/.exec(rule);
  return policyRule ? (policyRule[1] as string) : (rule.split(' (')[0] as string);
}

function shortId(check: string): string {
  return check.replace('HIPAA-NP-', '');
}

interface Group {
  id: string;
  kind: 'default-deny' | 'isolation' | 'rule' | 'object';
  subject: string;
  direction?: 'ingress' | 'egress';
  findings: number[];
}

/**
 * Groups failing and needs-review findings by what one change fixes. A finding about a PHI workload
 * that is not isolated in the finding's direction belongs to the missing default-deny of its namespace
 * (or, where the namespace has one that does not reach it, to the workload's isolation); one about an
 * isolated workload belongs to the first rule its evidence names; the rest to their first object.
 * Without the audit's context (reports rebuilt from JSON) only rules and objects group findings.
 */
export function groupRootCauses(findings: readonly Finding[], context?: AuditContext): RootCause[] {
  const failing = (f: Finding) => f.status === 'fail' || f.status === 'needs-review';
  const noDefaultDeny = new Set(
    findings.filter((f) => f.check === 'HIPAA-NP-007' && f.status === 'fail').flatMap((f) => f.objects),
  );
  const isolation = new Map<string, boolean>();
  const isolated = (workloadId: string, direction: 'ingress' | 'egress'): boolean => {
    const key = `${direction}\0${workloadId}`;
    let answer = isolation.get(key);
    if (answer === undefined) {
      const workload = context?.workloadById.get(workloadId);
      const state = workload && context ? workloadIsolation(context, workload, direction) : undefined;
      answer = !state || state.isolated || state.hostNetwork;
      isolation.set(key, answer);
    }
    return answer;
  };
  const groups = new Map<string, Group>();
  const groupOf = (finding: Finding): Omit<Group, 'findings'> => {
    const n = shortId(finding.check);
    const first = finding.objects[0];
    if (first && (n === '007' || (n === '008' && noDefaultDeny.has(first))))
      return { id: `default-deny:${first}`, kind: 'default-deny', subject: first };
    const direction = INGRESS.has(n) ? 'ingress' : EGRESS.has(n) ? 'egress' : undefined;
    // The PHI end: the first object for most checks, the destination for 011 and 012.
    const workload = finding.objects
      .map((id) => context?.workloadById.get(id))
      .find((w) => w !== undefined && context?.phi.phi.has(w.id));
    if (direction && workload) {
      if (!isolated(workload.id, direction)) {
        return noDefaultDeny.has(workload.namespace)
          ? { id: `default-deny:${workload.namespace}`, kind: 'default-deny', subject: workload.namespace }
          : {
              id: `isolation:${workload.id}:${direction}`,
              kind: 'isolation',
              subject: workload.id,
              direction,
            };
      }
      const rule = finding.evidence.rules?.[0];
      if (rule) {
        const key = ruleKey(rule.rule);
        return { id: `rule:${key}`, kind: 'rule', subject: key, direction };
      }
    }
    const subject = first ?? finding.check;
    return { id: `object:${subject}`, kind: 'object', subject };
  };
  findings.forEach((finding, index) => {
    if (!failing(finding)) return;
    const group = groupOf(finding);
    const existing = groups.get(group.id);
    if (existing) existing.findings.push(index);
    else groups.set(group.id, { ...group, findings: [index] });
  });
  return [...groups.values()]
    .map((group) => rootCauseOf(group, findings))
    .sort(
      (a, b) =>
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        b.findings.length - a.findings.length ||
        (a.id < b.id ? -1 : 1),
    );
}

function rootCauseOf(group: Group, all: readonly Finding[]): RootCause {
  const findings = group.findings.map((i) => all[i] as Finding);
  const open = findings.filter((f) => !f.accepted);
  const severity = SEVERITIES.find((s) => (open.length ? open : findings).some((f) => f.severity === s));
  const checks = [...new Set(findings.map((f) => f.check))].sort();
  const named = findings.flatMap((f) => f.objects);
  // A missing default-deny affects its namespace's workloads, not the peers its findings mention.
  const affected =
    group.kind === 'default-deny'
      ? named.filter((id) => id.startsWith(`${group.subject}/`))
      : group.kind === 'isolation'
        ? []
        : named;
  const objects = [...new Set([group.subject, ...affected])];
  const problems = [...new Set(checks.map((c) => definitionOf(c).problem))].join('; ');
  const title =
    group.kind === 'default-deny'
      ? `namespace ${group.subject} has no default-deny`
      : group.kind === 'isolation'
        ? `${group.subject} is not ${group.direction}-isolated`
        : group.kind === 'rule'
          ? `${group.direction} rule ${group.subject}: ${problems}`
          : `${group.subject}: ${problems}`;
  // The fix of the finding that names the cause itself (007 for a namespace, 005/006 for a workload)
  // comes first; otherwise the one of the most severe finding, preferring a ready manifest.
  const own =
    group.kind === 'default-deny'
      ? findings.find((f) => f.check === 'HIPAA-NP-007')
      : group.kind === 'isolation'
        ? findings.find((f) => f.check === (group.direction === 'ingress' ? 'HIPAA-NP-005' : 'HIPAA-NP-006'))
        : undefined;
  const bySeverity = [...findings].sort(
    (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
  );
  const remediation = (
    own ??
    bySeverity.find((f) => f.remediation?.yaml) ??
    bySeverity.find((f) => f.remediation)
  )?.remediation;
  return {
    id: group.id,
    title,
    severity: severity ?? 'info',
    objects,
    checks,
    findings: group.findings,
    ...(remediation ? { remediation } : {}),
  };
}
