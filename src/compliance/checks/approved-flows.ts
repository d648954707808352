import {
  formatPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import { PROTOCOLS, type Workload } from '../../model/types.ts';
import type { AuditConfig } from '../config.ts';
import type { Check, FindingDraft } from '../types.ts';
import { policyOfRule } from './open-ingress.ts';
import { connectionsOf, edgeText, isPhi, locationOf, phiWorkloads } from './support.ts';
import { rulesOf } from './util-evidence.ts';

/** `ns/name[Kind]` or `ns/name`, as approvedFlows may name a workload either way. */
export function namesWorkload(name: string, workload: Workload): boolean {
  return name === workload.id || name === `${workload.namespace}/${workload.name}`;
}

export function approvedPorts(config: AuditConfig, src: Workload, dst: Workload): PortSet {
  let ports = NO_PORTS;
  for (const flow of config.approvedFlows) {
    if (!namesWorkload(flow.from, src) || !namesWorkload(flow.to, dst)) continue;
    const range: [number, number] = flow.port === undefined ? [1, 65535] : [flow.port, flow.port];
    ports = unionPorts(ports, portSetOf(flow.protocol, [range]));
  }
  return ports;
}

/** `approvedFlows` entries covering the ports, ready to paste into phiwall.yaml once reviewed. */
function approvedFlowsYaml(src: Workload, dst: Workload, ports: PortSet): string {
  const lines = ['approvedFlows:'];
  const from = `${src.namespace}/${src.name}`;
  const to = `${dst.namespace}/${dst.name}`;
  for (const protocol of PROTOCOLS) {
    const ranges = ports[protocol];
    const count = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
    if (count === 0) continue;
    if (count > 20) {
      lines.push(`  - {from: ${from}, to: ${to}, protocol: ${protocol}}  # every ${protocol} port`);
      continue;
    }
    for (const [lo, hi] of ranges) {
      for (let port = lo; port <= hi; port++)
        lines.push(`  - {from: ${from}, to: ${to}, port: ${port}, protocol: ${protocol}}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const check012: Check = {
  id: 'HIPAA-NP-012',
  run(context) {
    const review = context.config.approvedFlows.length === 0;
    const findings: FindingDraft[] = [];
    for (const dst of phiWorkloads(context)) {
      for (const connection of connectionsOf(context, dst.id, 'ingress')) {
        if (!('workload' in connection.src) || isPhi(context, connection.src.workload)) continue;
        const src = context.workloadById.get(connection.src.workload);
        if (!src) continue;
        const unapproved = subtractPorts(connection.ports, approvedPorts(context.config, src, dst));
        if (isEmptyPorts(unapproved)) continue;
        const pod = src.pods[0];
        const rules = pod ? rulesOf(context, dst, { pod }, 'ingress') : [];
        const notes = review
          ? ['approvedFlows is empty: a person must confirm this flow into PHI is intended']
          : [`not approved: ${formatPorts(unapproved)} (no approvedFlows entry covers it)`];
        findings.push({
          status: review ? 'needs-review' : 'fail',
          objects: [src.id, dst.id],
          evidence: { edges: [edgeText(connection)], rules, notes },
          remediation: {
            text: `If the flow ${src.id} -> ${dst.id} is intended, add it to approvedFlows in phiwall.yaml (below); otherwise remove or narrow the rules cited.`,
            yaml: approvedFlowsYaml(src, dst, unapproved),
          },
          location: locationOf(policyOfRule(context, rules?.[0]) ?? dst.provenance),
        });
      }
    }
    return findings;
  },
};
