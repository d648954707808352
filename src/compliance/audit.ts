import { type Connection, computeConnectivity, peerName } from '../analysis/connectivity.ts';
import type { Responsible } from '../analysis/diff.ts';
import type { ComparedEdge } from '../analysis/flow-comparison.ts';
import { peerLabel } from '../analysis/flows.ts';
import type { Engine } from '../engine/engine.ts';
import { formatPorts } from '../engine/ports.ts';
import { CATALOGUE } from './catalogue.ts';
import { CHECKS } from './checks/index.ts';
import type { AuditConfig } from './config.ts';
import { phiScope } from './phi-scope.ts';
import { groupRootCauses, type RootCause } from './root-causes.ts';
import { summaryOf } from './summary.ts';
import {
  type AuditContext,
  type Check,
  type Finding,
  type ObservedTraffic,
  SEVERITIES,
  type Severity,
  type Status,
} from './types.ts';
import { type FixCheckMode, verifyFixes } from './verify-fixes.ts';

/** One observed edge touching PHI, as the report shows it. */
export interface TrafficEdge {
  src: string;
  dst: string;
  protocol: string;
  port: number;
  count: number;
  /** The first record of it, `file:line`. */
  at: string;
  /** The rules that decide it under policy. */
  responsible: Responsible;
}

/** Observed traffic into and out of PHI workloads beside policy, when flow logs were given. */
export interface PhiTraffic {
  files: string[];
  window?: { from: string; to: string };
  records: number;
  flows: number;
  unmapped: number;
  /** Forwarded although policy denies it. */
  gaps: TrafficEdge[];
  /** Dropped, and policy denies it. */
  needed: TrafficEdge[];
  /** Dropped although policy allows it. */
  droppedAllowed: TrafficEdge[];
  used: TrafficEdge[];
  /** Allowed connections into or out of PHI that no forwarded flow used. */
  unused: { src: string; dst: string; ports: string; responsible: Responsible }[];
}

export interface AuditResult {
  findings: Finding[];
  /** Failing and needs-review findings grouped by what one change fixes; reports lead with them. */
  rootCauses: RootCause[];
  phi: { workload: string; reason: string }[];
  traffic?: PhiTraffic;
  summary: {
    /** Findings per status. */
    byStatus: Record<Status, number>;
    /** Failing findings that are not accepted, per severity. */
    failingBySeverity: Record<Severity, number>;
    accepted: number;
    /** Catalogue checks per status: a check fails when one of its findings fails and is not accepted. */
    checksByStatus: Record<Status, number>;
    /** Root causes per severity. */
    rootCausesBySeverity: Record<Severity, number>;
    /** Failing and needs-review findings that are not accepted, per severity. */
    findingsBySeverity: Record<Severity, number>;
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
  options: {
    now?: Date;
    checks?: readonly Check[];
    baseline?: Engine;
    observed?: ObservedTraffic;
    /**
     * How much re-running of the engine checking root causes' fixes may cost, in workloads' worth of
     * engines (verify-fixes.ts, VERIFY_BUDGET); none when absent (the server and history audit often).
     */
    verifyFixes?: number;
    /** How fixes are applied to be checked (verify-fixes.ts); in place where they allow, by default. */
    fixChecks?: FixCheckMode;
    /** The engine's connectivity, when the caller computed it already. */
    connections?: Connection[];
  } = {},
): AuditResult {
  const context = auditContext(engine, config, options);
  const { phi, today } = context;
  const checks = new Map((options.checks ?? CHECKS).map((check) => [check.id, check]));
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
  const rootCauses = groupRootCauses(findings, context);
  for (const cause of rootCauses)
    for (const index of cause.findings) (findings[index] as Finding).rootCause = cause.id;
  if (options.verifyFixes) verifyFixes(context, rootCauses, findings, options.verifyFixes, options.fixChecks);
  return {
    findings,
    rootCauses,
    phi: [...phi.phi].map(([workload, reason]) => ({ workload, reason })),
    ...(options.observed ? { traffic: phiTraffic(options.observed) } : {}),
    summary: summaryOf(findings, rootCauses),
  };
}

/** What every check reads: the input, the engine, PHI scope and connectivity, computed once. */
export function auditContext(
  engine: Engine,
  config: AuditConfig,
  options: { now?: Date; baseline?: Engine; observed?: ObservedTraffic; connections?: Connection[] } = {},
): AuditContext {
  const { snapshot } = engine;
  return {
    snapshot,
    engine,
    config,
    phi: phiScope(snapshot, config),
    connections: options.connections ?? computeConnectivity(engine),
    workloadById: new Map(snapshot.workloads.map((w) => [w.id, w])),
    baseline: options.baseline ? computeConnectivity(options.baseline) : undefined,
    observed: options.observed,
    today: (options.now ?? new Date()).toISOString().slice(0, 10),
  };
}

/** Whether a failing, non-accepted finding is at or above the threshold. */
export function failsAt(result: AuditResult, threshold: FailOn): boolean {
  if (threshold === 'never') return false;
  const limit = SEVERITIES.indexOf(threshold);
  return SEVERITIES.some((severity, i) => i <= limit && result.summary.failingBySeverity[severity] > 0);
}

/** The PHI part of a flow comparison, in the report's words. */
function phiTraffic({ files, comparison }: ObservedTraffic): PhiTraffic {
  const edges = (group: ComparedEdge['group']) =>
    comparison.edges
      .filter((e) => e.group === group && e.phi.length > 0)
      .map(
        (e): TrafficEdge => ({
          src: peerLabel(e.src),
          dst: peerLabel(e.dst),
          protocol: e.protocol,
          port: e.port,
          count: e.count,
          at: `${e.at.file}:${e.at.line}`,
          responsible: e.responsible,
        }),
      );
  return {
    files: [...files],
    ...(comparison.window ? { window: comparison.window } : {}),
    records: comparison.mapped.records,
    flows: comparison.mapped.flows,
    unmapped: comparison.mapped.unmapped.count,
    gaps: edges('gap'),
    needed: edges('needed'),
    droppedAllowed: edges('dropped-allowed'),
    used: edges('used'),
    unused: comparison.unused
      .filter((u) => u.phi.length > 0)
      .map((u) => ({
        src: peerName(u.connection.src),
        dst: peerName(u.connection.dst),
        ports: formatPorts(u.connection.ports),
        responsible: u.responsible,
      })),
  };
}
