import { type Connection, peerName } from '../../analysis/connectivity.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { formatPorts } from '../../engine/ports.ts';
import type { Direction, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Evidence } from '../types.ts';

/** `src -> dst TCP 443`, the edge notation of the catalogue. */
export function edgeText(connection: Connection): string {
  return `${peerName(connection.src)} -> ${peerName(connection.dst)} ${formatPorts(connection.ports)}`;
}

export function phiWorkloads(context: AuditContext): Workload[] {
  return context.snapshot.workloads.filter((w) => context.phi.phi.has(w.id));
}

export function isPhi(context: AuditContext, workloadId: string): boolean {
  return context.phi.phi.has(workloadId);
}

/** Connections into (or out of) a workload, from the audit's connectivity. */
export function connectionsOf(context: AuditContext, workloadId: string, direction: Direction): Connection[] {
  return context.connections.filter((c) => {
    const side = direction === 'ingress' ? c.dst : c.src;
    return 'workload' in side && side.workload === workloadId;
  });
}

/**
 * The rules that admit one direction of a connection, as `ns/policy#spec.ingress[1]` at `file:line`,
 * and the policies that isolate it: the evidence an auditor follows back to the YAML.
 */
export function ruleEvidence(
  context: AuditContext,
  subject: Workload,
  peer: Endpoint,
  direction: Direction,
): Evidence['rules'] {
  const pod = subject.pods[0];
  if (!pod) return [];
  const side = context.engine.explainSide(pod, peer, direction);
  return side.admittedBy.map(({ policy, rule }) => ({
    rule: `${policy.namespace}/${policy.name}#spec.${direction}[${rule.index}]`,
    at: where(rule.provenance),
  }));
}

/** A NetworkPolicy manifest, for remediations that can be applied as they are. */
export function policyYaml(namespace: string, name: string, spec: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${spec
  .trim()
  .split('\n')
  .map((line) => `  ${line}`)
  .join('\n')}
`;
}

export function defaultDenyYaml(namespace: string): string {
  return policyYaml(namespace, 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
}
