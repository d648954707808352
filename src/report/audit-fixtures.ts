// Test support for the report renderers. Results are built by hand, not by running the checks, so the
// renderer tests hold whichever checks are implemented; it imports no check for the same reason.
import type { AuditResult } from '../compliance/audit.ts';
import { definitionOf } from '../compliance/catalogue.ts';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { groupRootCauses } from '../compliance/root-causes.ts';
import { summaryOf } from '../compliance/summary.ts';
import type { Finding, FindingDraft } from '../compliance/types.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { AuditReport, FlowEdge } from './audit.ts';

/** A label an attacker controls, as HTML that would run script if a report let it through. */
export const PLANTED = '<img src=x onerror=alert(1)>';

export const SMALL_CLUSTER = `apiVersion: v1
kind: Namespace
metadata: { name: phi, labels: { data-classification: phi } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: db, namespace: phi }
spec:
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: c, ports: [{ containerPort: 5432 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-in, namespace: phi }
spec:
  podSelector: { matchLabels: { app: db } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ namespaceSelector: {} }]
      ports: [{ port: 5432 }]
`;

export function findingOf(check: string, draft: FindingDraft): Finding {
  const d = definitionOf(check);
  return { check, title: d.title, hipaa: d.hipaa, ...draft, severity: draft.severity ?? d.severity };
}

/** The root causes and summary runAudit would compute for these findings (without the engine's view). */
export function resultOf(findings: Finding[], phi: AuditResult['phi'] = []): AuditResult {
  const rootCauses = groupRootCauses(findings);
  for (const cause of rootCauses)
    for (const i of cause.findings) (findings[i] as Finding).rootCause = cause.id;
  return { findings, rootCauses, phi, summary: summaryOf(findings, rootCauses) };
}

const DB = 'phi/db[Deployment]';
const WEB = 'shop/web[Deployment]';

/** One finding of each status, an accepted one, remediation YAML, and the planted label in every field. */
export function sampleFindings(label = PLANTED): Finding[] {
  return [
    findingOf('HIPAA-NP-023', { status: 'pass', objects: [], evidence: {} }),
    findingOf('HIPAA-NP-002', {
      status: 'not-assessable',
      objects: [],
      evidence: { notes: ['no kube-system DaemonSets in input'] },
    }),
    findingOf('HIPAA-NP-012', {
      status: 'needs-review',
      objects: [DB, label],
      evidence: { edges: [`${WEB} -> ${DB} TCP 5432`], notes: ['approvedFlows is empty'] },
    }),
    findingOf('HIPAA-NP-010', {
      status: 'fail',
      objects: [DB],
      evidence: {
        edges: [`${WEB} -> ${DB} TCP 5432`],
        rules: [{ rule: 'phi/db-in#spec.ingress[0].from[0]', at: 'cluster.yaml:37' }],
      },
      remediation: {
        text: 'Select the namespaces that may reach the database by name.',
        yaml: 'kind: NetworkPolicy\n# ``` a fence inside must not end the block\nmetadata: { name: db-in }\n',
      },
      location: { file: 'cluster.yaml', line: 37 },
    }),
    findingOf('HIPAA-NP-009', {
      status: 'fail',
      objects: ['phi/api[Deployment]'],
      evidence: { notes: [`reachable from 0.0.0.0/0 | *bold* ${label}`] },
      accepted: { reason: `load balancer health checks ${label}`, until: '2027-01-31' },
    }),
    findingOf('HIPAA-NP-024', {
      status: 'fail',
      objects: [label],
      evidence: { notes: [label] },
    }),
    findingOf('HIPAA-NP-032', {
      status: 'pass',
      objects: [],
      evidence: { edges: [`${WEB} -> ${DB} TCP 5432`, `${DB} -> 10.0.0.0/8 TCP 443`] },
    }),
  ];
}

export function sampleReport(options: { label?: string; flows?: FlowEdge[] } = {}): AuditReport {
  const snapshot = buildSnapshot([{ path: 'cluster.yaml', text: SMALL_CLUSTER }]);
  return {
    result: resultOf(sampleFindings(options.label), [
      { workload: DB, reason: 'namespace phi has data-classification=phi' },
    ]),
    snapshot,
    config: DEFAULT_CONFIG,
    configSource: { path: 'phiwall.yaml', sha256: 'c'.repeat(64) },
    generatedAt: new Date('2026-11-27T10:00:00Z'),
    ...(options.flows ? { flows: options.flows } : {}),
  };
}
