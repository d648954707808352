import type { Connection } from '../analysis/connectivity.ts';
import type { FlowComparison } from '../analysis/flow-comparison.ts';
import type { Engine } from '../engine/engine.ts';
import type { Snapshot, Workload } from '../model/types.ts';
import type { AuditConfig } from './config.ts';
import type { PhiScope } from './phi-scope.ts';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type Status = 'pass' | 'fail' | 'needs-review' | 'not-assessable';

/** One entry of the catalogue (docs/hipaa-checks.md): ids are stable, reports and suppressions use them. */
export interface CheckDefinition {
  id: string;
  title: string;
  /** What a failing finding says is wrong, in a few words ("not ingress-isolated"). */
  problem: string;
  severity: Severity;
  /** Sections of 45 CFR 164, e.g. `164.312(a)(1)`. */
  hipaa: readonly string[];
}

export interface Evidence {
  /** Connections, as `src -> dst TCP 443`. */
  edges?: string[];
  /** Rules and objects responsible, each with its position: `ns/policy#spec.ingress[1]` at `file:line`. */
  rules?: { rule: string; at: string }[];
  notes?: string[];
}

export interface Remediation {
  text: string;
  /** A NetworkPolicy (or other manifest) that fixes the finding, ready to apply. */
  yaml?: string;
}

export interface Finding {
  check: string;
  title: string;
  status: Status;
  severity: Severity;
  hipaa: readonly string[];
  /** Affected objects: workload ids, `ns/policy` names, namespaces. */
  objects: string[];
  evidence: Evidence;
  remediation?: Remediation;
  /** Where in the input the finding points (for SARIF and editors). */
  location?: { file: string; line: number };
  /** Set when an `accept` entry of the config covers the finding and has not expired. */
  accepted?: { reason: string; until: string };
  /** The id of the root cause the finding is grouped under (failing and needs-review findings). */
  rootCause?: string;
}

export interface AuditContext {
  snapshot: Snapshot;
  engine: Engine;
  config: AuditConfig;
  phi: PhiScope;
  /** Workload-level connectivity, computed once for every check. */
  connections: readonly Connection[];
  workloadById: ReadonlyMap<string, Workload>;
  /** The approved baseline's connectivity, when `--baseline` names one (HIPAA-NP-030). */
  baseline?: readonly Connection[];
  /** Observed flows compared with policy, when flow logs are given (HIPAA-NP-029, HIPAA-NP-002). */
  observed?: ObservedTraffic;
  /** The audit's date (YYYY-MM-DD): `accept` entries expiring before it no longer count. */
  today: string;
}

/** Flow logs given to the audit, and how what they recorded compares with policy. */
export interface ObservedTraffic {
  files: readonly string[];
  comparison: FlowComparison;
}

/** What a check reports; the catalogue fills in id, title and HIPAA references. */
export type FindingDraft = Omit<Finding, 'check' | 'title' | 'severity' | 'hipaa'> & { severity?: Severity };

export interface Check {
  id: string;
  /** Returns the check's findings; an empty list means it passed. */
  run(context: AuditContext): FindingDraft[];
}
