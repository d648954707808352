import type { Connection } from '../../analysis/connectivity.ts';
import { isEmptyPorts } from '../../engine/ports.ts';
import type { Direction, NetworkPolicy, PolicyRule } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { Check, FindingDraft } from '../types.ts';
import { phiNamespaces } from './flow-logging.ts';
import { connectionsOf, locationOf, onePodPerClass } from './support.ts';
import { allowingRules } from './tier-support.ts';
import { edgesOf, mergeEvidence } from './util-evidence.ts';
import { endpointsOf } from './util-open-ingress.ts';
import { isEmptySelector, policiesIn } from './util-scope.ts';

/** Namespace-wide DNS to cluster pods is the recommended companion of a default-deny, not a broad allow. */
function isClusterDnsOnly(rule: PolicyRule): boolean {
  if (rule.direction !== 'egress' || !rule.peers || rule.peers.length === 0) return false;
  if (!rule.peers.every((p) => p.kind === 'pods')) return false;
  return (
    rule.ports !== undefined &&
    rule.ports.length > 0 &&
    rule.ports.every((p) => p.port === 53 && p.endPort === undefined && p.protocol !== 'SCTP')
  );
}

export const check028: Check = {
  id: 'HIPAA-NP-028',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const namespace of phiNamespaces(context)) {
      const broad = policiesIn(context, namespace).filter((p) => isEmptySelector(p.podSelector));
      if (broad.length === 0) continue;
      // Which broad rules actually admit computed traffic, and which edges they admit.
      const used = new Map<NetworkPolicy, { rules: Map<string, string>; edges: Set<Connection> }>();
      for (const workload of context.snapshot.workloads.filter((w) => w.namespace === namespace)) {
        for (const direction of ['ingress', 'egress'] as Direction[]) {
          for (const connection of connectionsOf(context, workload.id, direction)) {
            const other = direction === 'ingress' ? connection.src : connection.dst;
            for (const [pod, peer] of onePodPerClass(context, workload).flatMap((pod) =>
              endpointsOf(context, other).map((peer) => [pod, peer] as const),
            )) {
              const side = context.engine.explainSide(pod, peer, direction);
              // Limited to what the NetworkPolicy tier decided: an Admin-tier rule may override it.
              for (const allowing of allowingRules(side)) {
                if (allowing.kind !== 'networkPolicy') continue;
                const { policy, rule, ports } = allowing;
                if (!broad.includes(policy) || isEmptyPorts(ports) || isClusterDnsOnly(rule)) continue;
                const entry = used.get(policy) ?? { rules: new Map<string, string>(), edges: new Set() };
                const path = `${policy.namespace}/${policy.name}#spec.${direction}[${rule.index}]`;
                if (!entry.rules.has(path)) entry.rules.set(path, where(rule.provenance));
                entry.edges.add(connection);
                used.set(policy, entry);
              }
            }
          }
        }
      }
      for (const policy of broad) {
        const entry = used.get(policy);
        if (!entry) continue;
        findings.push({
          status: 'fail',
          objects: [`${policy.namespace}/${policy.name}`],
          evidence: mergeEvidence(
            {
              rules: [...entry.rules].map(([rule, at]) => ({ rule, at })),
              notes: [
                `${policy.namespace}/${policy.name} selects every pod of PHI namespace ${namespace} (podSelector: {}) and its rules allow traffic`,
              ],
            },
            edgesOf([...entry.edges]),
          ),
          remediation: {
            text: `Replace podSelector: {} in ${policy.namespace}/${policy.name} with a selector naming only the workloads that need these flows, or move the rules into per-workload policies; keep podSelector: {} for default-deny and cluster DNS only.`,
          },
          location: locationOf(policy.provenance),
        });
      }
    }
    return findings;
  },
};
