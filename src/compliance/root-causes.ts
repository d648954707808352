import { createHash } from 'node:crypto';
import type { NetworkPolicy } from '../model/types.ts';
import { definitionOf } from './catalogue.ts';
import { workloadIsolation } from './checks/util-attribution.ts';
import { approvedFlowAllows } from './remediation/approved-policies.ts';
import { ruleYaml } from './remediation/manifests.ts';
import { type AuditContext, type Finding, type Remediation, SEVERITIES, type Severity } from './types.ts';
import type { FixVerification } from './verify-fixes.ts';

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
  /**
   * Set when the root cause folds alike ones: the same missing default-deny, rule or problem in several
   * namespaces. The ids of the root causes it stands for, each of which one change would fix alone.
   */
  folded?: string[];
  /** On a folded root cause: the findings its remediation, written for the first of them, fixes. */
  remediationCovers?: number[];
  /** Whether the engine, with the fix applied to the input, finds the findings fixed (verify-fixes.ts). */
  verification?: FixVerification;
}

const INGRESS = new Set(['005', '009', '010', '011', '012', '013', '014', '015', '020', '031']);
const EGRESS = new Set(['006', '016', '017', '018', '019']);
/**
 * Checks whose needs-review findings ask a person the same question of every flow (012) or port (020),
 * with the checks whose failure on the same rule means that narrowing the rule answers it: a rule open
 * to every address or namespace admits the unapproved flows, one open on every port the plain ports.
 */
const ABSORBED_BY: Record<string, readonly string[]> = { '012': ['009', '010', '011'], '020': ['014'] };
/** Entries of a review's approvedFlows list shown in the root cause's fix; every finding has its own. */
const MAX_REVIEW_ENTRIES = 40;

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
  kind: 'default-deny' | 'isolation' | 'review' | 'rule' | 'object';
  subject: string;
  direction?: 'ingress' | 'egress';
  findings: number[];
}

/**
 * Groups failing and needs-review findings by what one change fixes. A finding about a PHI workload
 * that is not isolated in the finding's direction belongs to the missing default-deny of its namespace
 * (or, where the namespace has one that does not reach it, to the workload's isolation); one about an
 * isolated workload (or about a namespace reaching PHI) belongs to the first rule its evidence names,
 * unless it asks a person to judge (012, 020 needs-review: one review each) and the rule is not open so
 * wide that narrowing it answers that; the rest to their first object. Alike root causes spanning
 * several namespaces are then folded into one (foldAlike). Without the audit's context (reports rebuilt
 * from JSON) only rules, reviews and objects group findings.
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
    }
    // An isolated PHI workload's finding, or one about a namespace reaching PHI (011), is the rule's.
    const rule = finding.evidence.rules?.[0];
    if (direction && rule && (workload || !finding.objects.some((id) => context?.workloadById.has(id)))) {
      const key = ruleKey(rule.rule);
      return { id: `rule:${key}`, kind: 'rule', subject: key, direction };
    }
    const subject = first ?? finding.check;
    return { id: `object:${subject}`, kind: 'object', subject };
  };
  const assigned = findings.map((finding) => (failing(finding) ? groupOf(finding) : undefined));
  const checksOf = new Map<string, Set<string>>();
  assigned.forEach((group, index) => {
    if (!group) return;
    const checks = checksOf.get(group.id) ?? new Set();
    checks.add(shortId((findings[index] as Finding).check));
    checksOf.set(group.id, checks);
  });
  assigned.forEach((own, index) => {
    if (!own) return;
    const finding = findings[index] as Finding;
    const absorbing = ABSORBED_BY[shortId(finding.check)];
    // Where a person must judge (is this flow intended? does this port carry TLS?), the judgement is one
    // task however many rules admit the traffic, unless the rule is open so wide that narrowing it
    // (a root cause already) ends the traffic in question.
    const review =
      finding.status === 'needs-review' &&
      absorbing !== undefined &&
      !(own.kind === 'rule' && absorbing.some((c) => checksOf.get(own.id)?.has(c)));
    const group: Omit<Group, 'findings'> =
      review && own.kind !== 'default-deny' && own.kind !== 'isolation'
        ? { id: `review:${finding.check}`, kind: 'review', subject: finding.check }
        : own;
    const existing = groups.get(group.id);
    if (existing) existing.findings.push(index);
    else groups.set(group.id, { ...group, findings: [index] });
  });
  const causes = [...groups.values()].map((group) => ({
    group,
    cause: rootCauseOf(group, findings, context),
  }));
  return foldAlike(causes, context).sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      b.findings.length - a.findings.length ||
      (a.id < b.id ? -1 : 1),
  );
}

/** A default-deny followed by the allows that keep DNS and approvedFlows flowing through it. */
function withApprovedFlows(deny: Remediation, allows: readonly string[]): Remediation {
  return {
    text: `${deny.text} The policies after it do that for DNS and for what approvedFlows names (${allows.length - 1} workload polic${allows.length === 2 ? 'y' : 'ies'}); add the flows approvedFlows does not yet name before applying.`,
    yaml: [deny.yaml, ...allows].join('---\n'),
  };
}

function reviewTitle(check: string, findings: readonly Finding[]): string {
  if (check === 'HIPAA-NP-012')
    return `approvedFlows is empty: ${findings.length} flow(s) into PHI wait for a person to confirm them`;
  return `${findings.length} PHI workload(s) accept ingress on ports outside tlsPorts: confirm these ports carry TLS`;
}

/** One fix for the review: the first finding's advice, and every finding's approvedFlows entries, capped. */
function reviewRemediation(findings: readonly Finding[]): Remediation | undefined {
  const first = findings.find((f) => f.remediation)?.remediation;
  if (!first) return undefined;
  const entries = [
    ...new Set(
      findings.flatMap((f) =>
        (f.remediation?.yaml ?? '').split('\n').filter((line) => line.startsWith('  - ')),
      ),
    ),
  ].sort();
  if (entries.length === 0) return { text: first.text };
  const shown = entries.slice(0, MAX_REVIEW_ENTRIES);
  const rest = entries.length - shown.length;
  return {
    text: 'Confirm each flow with its owner; paste the entries of the intended ones into approvedFlows in phiwall.yaml (below), and narrow the rules that admit the others.',
    yaml: `approvedFlows:\n${shown.join('\n')}\n${rest > 0 ? `  # … ${rest} more: each finding lists its own\n` : ''}`,
  };
}

const POLICY_RULE = /^([^/#]+)\/([^/#]+)#spec\.(ingress|egress)\[(\d+)\]$/;

/** The namespace a root cause is about: its namespace, or that of its workload, rule or object. */
function namespaceOf(group: Group): string {
  if (group.kind === 'default-deny') return group.subject;
  const slash = group.subject.indexOf('/');
  return slash < 0 ? group.subject : group.subject.slice(0, slash);
}

/**
 * What makes two root causes alike: the same kind and checks, and for a rule the same peers and ports
 * (written back from the policy, so rules of differently named policies match), for an object the
 * same kind of object. Without the audit's context a rule is alike only to rules of the same name.
 */
function shapeOf(group: Group, cause: RootCause, policies: () => ReadonlyMap<string, NetworkPolicy>): string {
  const base = `${group.kind}|${group.direction ?? ''}|${cause.checks.join(',')}`;
  if (group.kind === 'rule') {
    const [, namespace, name, direction, index] = POLICY_RULE.exec(group.subject) ?? [];
    if (!namespace || !name || !direction) return `${base}|${group.subject}`;
    const policy = policies().get(`${namespace}/${name}`);
    const rule = policy?.[direction as 'ingress' | 'egress'][Number(index)];
    return `${base}|${rule ? ruleYaml(rule) : `${name}#${direction}[${index}]`}`;
  }
  if (group.kind === 'object')
    return `${base}|${group.subject.includes('[') ? 'workload' : group.subject.includes('/') ? 'object' : 'namespace'}`;
  return base;
}

/**
 * Folds alike root causes that span several namespaces into one, listing what it stands for: on a
 * cluster of hundreds of namespaces built from a few templates, the same open rule or missing policy
 * is one decision for the reader, not hundreds of rows. Alike ones inside one namespace stay apart.
 */
function foldAlike(
  causes: readonly { group: Group; cause: RootCause }[],
  context: AuditContext | undefined,
): RootCause[] {
  let byName: Map<string, NetworkPolicy> | undefined;
  const policies = () => {
    byName ??= new Map((context?.snapshot.policies ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
    return byName;
  };
  const alike = new Map<string, { group: Group; cause: RootCause }[]>();
  for (const entry of causes) {
    const shape = shapeOf(entry.group, entry.cause, policies);
    const list = alike.get(shape);
    if (list) list.push(entry);
    else alike.set(shape, [entry]);
  }
  return [...alike].flatMap(([shape, members]) =>
    new Set(members.map(({ group }) => namespaceOf(group))).size < 2
      ? members.map(({ cause }) => cause)
      : [foldedCause(shape, members)],
  );
}

function objectNoun(subjects: readonly string[], namespaces: number): string {
  if (subjects.every((s) => !s.includes('/'))) return 'namespaces';
  return `${subjects.every((s) => s.includes('[')) ? 'workloads' : 'objects'} in ${namespaces} namespaces`;
}

function listed(subjects: readonly string[]): string {
  if (subjects.length <= 4) return subjects.join(', ');
  return `${subjects.slice(0, 3).join(', ')}, … (${subjects.length} in all)`;
}

/** The members' highest severity leads (they are sorted by it); the first one's fix stands for all. */
function foldedCause(shape: string, members: readonly { group: Group; cause: RootCause }[]): RootCause {
  const ordered = [...members].sort(
    (a, b) =>
      SEVERITIES.indexOf(a.cause.severity) - SEVERITIES.indexOf(b.cause.severity) ||
      (a.group.subject < b.group.subject ? -1 : 1),
  );
  const first = ordered[0] as { group: Group; cause: RootCause };
  const { kind, direction } = first.group;
  const subjects = ordered.map(({ group }) => group.subject);
  const namespaces = new Set(ordered.map(({ group }) => namespaceOf(group))).size;
  const findings = ordered.flatMap(({ cause }) => cause.findings).sort((a, b) => a - b);
  const problems = [...new Set(first.cause.checks.map((c) => definitionOf(c).problem))].join('; ');
  const title =
    kind === 'default-deny'
      ? `${subjects.length} namespaces have no default-deny: ${listed(subjects)}`
      : kind === 'isolation'
        ? `${subjects.length} workloads in ${namespaces} namespaces are not ${direction}-isolated: ${listed(subjects)}`
        : kind === 'rule'
          ? `the same ${direction} rule in ${subjects.length} policies of ${namespaces} namespaces: ${problems} (${listed(subjects)})`
          : `${subjects.length} ${objectNoun(subjects, namespaces)}: ${problems} (${listed(subjects)})`;
  const remediation = first.cause.remediation && {
    ...first.cause.remediation,
    text: `Each of the ${subjects.length} listed needs the same change; what follows is the one for ${first.group.subject}. ${first.cause.remediation.text}`,
  };
  return {
    id: `${kind}:alike:${createHash('sha256').update(shape).digest('hex').slice(0, 12)}`,
    title,
    severity: first.cause.severity,
    objects: [...new Set(ordered.flatMap(({ cause }) => cause.objects))],
    checks: first.cause.checks,
    findings,
    ...(remediation ? { remediation, remediationCovers: first.cause.findings } : {}),
    folded: ordered.map(({ cause }) => cause.id),
  };
}

function rootCauseOf(group: Group, all: readonly Finding[], context: AuditContext | undefined): RootCause {
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
  // A review's subject is the check that asks it, not an object.
  const objects = [...new Set([...(group.kind === 'review' ? [] : [group.subject]), ...affected])];
  const problems = [...new Set(checks.map((c) => definitionOf(c).problem))].join('; ');
  const title =
    group.kind === 'default-deny'
      ? `namespace ${group.subject} has no default-deny`
      : group.kind === 'isolation'
        ? `${group.subject} is not ${group.direction}-isolated`
        : group.kind === 'review'
          ? reviewTitle(group.subject, findings)
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
  const chosen = (
    (group.kind === 'review' ? { remediation: reviewRemediation(findings) } : undefined) ??
    own ??
    bySeverity.find((f) => f.remediation?.yaml) ??
    bySeverity.find((f) => f.remediation)
  )?.remediation;
  const remediation =
    group.kind === 'default-deny' && context && chosen?.yaml
      ? withApprovedFlows(chosen, approvedFlowAllows(context, group.subject))
      : chosen;
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
