import type { AuditResult } from './audit.ts';
import type { RootCause } from './root-causes.ts';
import { type Finding, SEVERITIES, type Severity, type Status } from './types.ts';

const STATUS_RANK: readonly Status[] = ['fail', 'needs-review', 'not-assessable', 'pass'];

/** The report's counts, each labelled as what it counts. */
export function summaryOf(
  findings: readonly Finding[],
  rootCauses: readonly RootCause[],
): AuditResult['summary'] {
  const perStatus = () => ({ pass: 0, fail: 0, 'needs-review': 0, 'not-assessable': 0 });
  const perSeverity = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byStatus: Record<Status, number> = perStatus();
  const failingBySeverity = perSeverity();
  const findingsBySeverity = perSeverity();
  const checkStatus = new Map<string, Status>();
  for (const finding of findings) {
    byStatus[finding.status]++;
    // An accepted finding counts as passing, as --fail-on treats it.
    const status = finding.accepted ? 'pass' : finding.status;
    if (status === 'fail') failingBySeverity[finding.severity]++;
    if (status === 'fail' || status === 'needs-review') findingsBySeverity[finding.severity]++;
    const previous = checkStatus.get(finding.check);
    if (!previous || STATUS_RANK.indexOf(status) < STATUS_RANK.indexOf(previous))
      checkStatus.set(finding.check, status);
  }
  const checksByStatus: Record<Status, number> = perStatus();
  for (const status of checkStatus.values()) checksByStatus[status]++;
  const rootCausesBySeverity = perSeverity();
  for (const cause of rootCauses) rootCausesBySeverity[cause.severity]++;
  return {
    byStatus,
    failingBySeverity,
    accepted: findings.filter((f) => f.accepted).length,
    checksByStatus,
    rootCausesBySeverity,
    findingsBySeverity,
  };
}
