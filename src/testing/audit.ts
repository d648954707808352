import { type AuditResult, runAudit } from '../compliance/audit.ts';
import { type AuditConfig, DEFAULT_CONFIG } from '../compliance/config.ts';
import type { Finding } from '../compliance/types.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';

/** Test support: audits manifests given as YAML text, with config overrides. */
export function auditOf(
  manifests: string,
  config: Partial<AuditConfig> = {},
  now = new Date('2026-11-27'),
): AuditResult {
  const snapshot = buildSnapshot([{ path: 'cluster.yaml', text: manifests }]);
  return runAudit(new Engine(snapshot, DEFAULT_OPTIONS), { ...DEFAULT_CONFIG, ...config }, { now });
}

/** The findings of one check, e.g. `findingsOf(result, 'HIPAA-NP-005')`. */
export function findingsOf(result: AuditResult, check: string): Finding[] {
  return result.findings.filter((f) => f.check === check);
}
