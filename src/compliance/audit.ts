import { computeConnectivity } from '../analysis/connectivity.ts';
import type { Engine } from '../engine/engine.ts';
import { CATALOGUE } from './catalogue.ts';
import { CHECKS } from './checks/index.ts';
import type { AuditConfig } from './config.ts';
import { phiScope } from './phi-scope.ts';
import {
  type AuditContext,
  type Check,
  type Finding,
  SEVERITIES,
  type Severity,
  type Status,
} from './types.ts';

export interface AuditResult {
  findings: Finding[];
  phi: { workload: string; reason: string }[];
  summary: {
    byStatus: Record<Status, number>;
    /** Failing findings that are not accepted, per severity. */
    failingBySeverity: Record<Severity, number>;
    accepted: number;
  };
}

export type FailOn = Severity | 'never';

/**
 * Evaluates the check catalogue. Every check appears: once as `pass` when it has nothing to report,
 * else once per affected object. Findings an unexpired `accept` entry covers stay, marked.
 */
export function runAudit(
  engine: Engine,
  config: AuditConfig,
  options: { now?: Date; checks?: readonly Check[]; baseline?: Engine } = {},
): AuditResult {
  const { snapshot } = engine;
  const phi = phiScope(snapshot, config);
  const context: AuditContext = {
    snapshot,
    engine,
    config,
    phi,
    connections: computeConnectivity(engine),
    workloadById: new Map(snapshot.workloads.map((w) => [w.id, w])),
    baseline: options.baseline ? computeConnectivity(options.baseline) : undefined,
  };
  const checks = new Map((options.checks ?? CHECKS).map((check) => [check.id, check]));
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const findings: Finding[] = [];
  for (const definition of CATALOGUE) {
    const check = checks.get(definition.id);
    const drafts = check
      ? check.run(context)
      : [
          {
            status: 'not-assessable' as const,
            objects: [],
            evidence: { notes: ['this version of phiwall does not evaluate this check yet'] },
          },
        ];
    const base = {
      check: definition.id,
      title: definition.title,
      severity: definition.severity,
      hipaa: definition.hipaa,
    };
    if (drafts.length === 0) findings.push({ ...base, status: 'pass', objects: [], evidence: {} });
    for (const draft of drafts) {
      const finding: Finding = { ...base, ...draft, severity: draft.severity ?? definition.severity };
      const acceptance = config.accept.find(
        (a) => a.check === finding.check && finding.objects.includes(a.object) && a.until >= today,
      );
      if (acceptance && finding.status !== 'pass')
        finding.accepted = { reason: acceptance.reason, until: acceptance.until };
      findings.push(finding);
    }
  }
  const byStatus: Record<Status, number> = { pass: 0, fail: 0, 'needs-review': 0, 'not-assessable': 0 };
  const failingBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of findings) {
    byStatus[finding.status]++;
    if (finding.status === 'fail' && !finding.accepted) failingBySeverity[finding.severity]++;
  }
  return {
    findings,
    phi: [...phi.phi].map(([workload, reason]) => ({ workload, reason })),
    summary: { byStatus, failingBySeverity, accepted: findings.filter((f) => f.accepted).length },
  };
}

/** Whether a failing, non-accepted finding is at or above the threshold. */
export function failsAt(result: AuditResult, threshold: FailOn): boolean {
  if (threshold === 'never') return false;
  const limit = SEVERITIES.indexOf(threshold);
  return SEVERITIES.some((severity, i) => i <= limit && result.summary.failingBySeverity[severity] > 0);
}
