import { isEmptyPorts } from '../../engine/ports.ts';
import type { PolicyRule, Workload } from '../../model/types.ts';
import { approvedPorts, namesWorkload } from '../checks/approved-flows.ts';
import { DNS_RULE_YAML } from '../checks/util-dns.ts';
import type { AuditContext } from '../types.ts';
import { indent, policyYaml, ruleYaml } from './manifests.ts';
import {
  admittedSources,
  approvedIngressYaml,
  peerOf,
  podSelectorYaml,
  policyPortsOf,
  uniquePolicyName,
} from './workload-policies.ts';

/** An egress policy for the workload with one rule per approvedFlows destination, on its ports. */
function approvedEgressYaml(context: AuditContext, source: Workload): string | undefined {
  const names = new Set(
    context.config.approvedFlows.filter((f) => namesWorkload(f.from, source)).map((f) => f.to),
  );
  if (names.size === 0) return undefined;
  const rules: string[] = [];
  for (const target of context.workloadById.values()) {
    if (target.id === source.id || ![...names].some((name) => namesWorkload(name, target))) continue;
    const ports = approvedPorts(context.config, source, target);
    if (isEmptyPorts(ports)) continue;
    const rule: PolicyRule = {
      direction: 'egress',
      index: rules.length,
      peers: [peerOf(target, source.namespace)],
      ports: policyPortsOf(ports),
      provenance: source.provenance,
    };
    rules.push(`# ${target.id}\n${ruleYaml(rule)}`);
  }
  if (rules.length === 0) return undefined;
  return policyYaml(
    source.namespace,
    uniquePolicyName(context, source.namespace, `${source.name}-egress-approved`),
    `${podSelectorYaml(source)}\npolicyTypes: [Egress]\negress:\n${indent(rules.join('\n'))}`,
  );
}

/**
 * What a namespace's default-deny needs beside it so that it stops nothing approved: DNS egress to the
 * cluster DNS for every pod, and per workload the approvedFlows into it and out of it, each on its
 * ports. Only approvedFlows: a default-deny that let through whatever flows now would deny nothing.
 */
export function approvedFlowAllows(context: AuditContext, namespace: string): string[] {
  const dns = policyYaml(
    namespace,
    uniquePolicyName(context, namespace, 'allow-dns'),
    `podSelector: {}\npolicyTypes: [Egress]\negress:\n${indent(DNS_RULE_YAML)}`,
  );
  const workloads = context.snapshot.workloads.filter((w) => w.namespace === namespace);
  const ingress = workloads.flatMap((workload) => {
    const admitted = admittedSources(context, workload, false);
    return admitted.length ? [approvedIngressYaml(context, workload, admitted)] : [];
  });
  const egress = workloads.flatMap((workload) => approvedEgressYaml(context, workload) ?? []);
  return [dns, ...ingress, ...egress];
}
