import { formatPorts, NO_PORTS, unionPorts } from '../../engine/ports.ts';
import { clusterPolicyId, clusterRuleId, type NetworkPolicy, type Provenance } from '../../model/types.ts';
import type { AuditContext, Check, Evidence, FindingDraft } from '../types.ts';
import { connectionsOf, locationOf, onePodPerClass, phiWorkloads } from './support.ts';
import { isolationOf, tierRuleNote, uniqueRules } from './tier-support.ts';
import { edgesOf, mergeEvidence, type RuleRef, rulesOf } from './util-evidence.ts';
import {
  broadPeerEvidence,
  broadPeers,
  FAMILIES,
  fromOtherNamespaces,
  notIngressIsolated,
  openIngressNote,
  portsOpenToEveryAddress,
  restrictRemediation,
} from './util-open-ingress.ts';

export const check009: Check = {
  id: 'HIPAA-NP-009',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const ingress = connectionsOf(context, workload.id, 'ingress');
      const external = ingress.filter((c) => 'external' in c.src);
      const parts: Evidence[] = [];
      for (const family of FAMILIES) {
        const ports = portsOpenToEveryAddress(external, family.range);
        if (!ports) continue;
        parts.push({
          notes: [`accepts ingress from every public ${family.name} address on ${formatPorts(ports)}`],
          rules: rulesOf(context, workload, { ip: family.probe }, 'ingress'),
        });
      }
      const everyPod = broadPeers(context, workload).filter((b) => b.allPods);
      if (everyPod.length > 0) {
        parts.push({
          notes: [
            `accepts ingress from every pod of every namespace, including namespaces created later, on ${formatPorts(
              everyPod.reduce((acc, b) => unionPorts(acc, b.ports), NO_PORTS),
            )}`,
          ],
          rules: everyPod.map(broadPeerEvidence),
        });
      }
      if (parts.length === 0) continue;
      if (notIngressIsolated(context, workload))
        parts.push({ notes: [openIngressNote(context, workload, ' (HIPAA-NP-005)')] });
      else if (external.length > 0) {
        const byTiers = uniqueRules(
          onePodPerClass(context, workload).flatMap((pod) => {
            const isolation = isolationOf(context, pod, 'ingress');
            return isolation.kind === 'tiers' ? isolation.rules : [];
          }),
        );
        if (byTiers.length > 0)
          parts.push({
            notes: [
              `isolated from pods by the Admin/Baseline tier (${byTiers.map(tierRuleNote).join(', ')}), not by a NetworkPolicy: those ingress rules cannot name sources outside the cluster, which are allowed by default; a NetworkPolicy selecting it for Ingress closes them`,
            ],
          });
      }
      const shown = [...external, ...(everyPod.length > 0 ? fromOtherNamespaces(context, workload) : [])];
      const evidence = mergeEvidence(...parts, edgesOf(shown));
      const firstPolicy = everyPod[0]?.policy;
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence,
        remediation: restrictRemediation(context, workload, 'traffic from every address'),
        location: locationOf(
          firstPolicy?.provenance ?? policyOfRule(context, evidence.rules?.[0]) ?? workload.provenance,
        ),
      });
    }
    return findings;
  },
};

const policyIndex = new WeakMap<AuditContext, Map<string, NetworkPolicy>>();

/** The policy named by a rule evidence entry (`ns/policy#…`), for the finding's location. */
export function policyOfRule(context: AuditContext, rule: RuleRef | undefined): Provenance | undefined {
  if (!rule) return undefined;
  // An Admin/Baseline-tier rule (`AdminNetworkPolicy/x ingress[0] …`): the finding points at the rule.
  const cluster = context.snapshot.clusterPolicies.find((p) =>
    rule.rule.startsWith(`${clusterPolicyId(p)} `),
  );
  if (cluster) {
    const entry = [...cluster.ingress, ...cluster.egress].find((r) =>
      rule.rule.startsWith(`${clusterRuleId(cluster, r)} `),
    );
    return entry?.provenance ?? cluster.provenance;
  }
  const policies = context.engine.currentPolicies;
  let index = policyIndex.get(context);
  if (!index) {
    index = new Map(policies.map((p) => [`${p.namespace}/${p.name}`, p]));
    policyIndex.set(context, index);
  }
  return index.get(rule.rule.slice(0, rule.rule.indexOf('#')))?.provenance;
}

export const check010: Check = {
  id: 'HIPAA-NP-010',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const broad = broadPeers(context, workload);
      const open = notIngressIsolated(context, workload);
      if (broad.length === 0 && !open) continue;
      const notes = broad.map(
        (b) =>
          `${broadPeerEvidence(b).rule} admits ${b.allPods ? 'every pod' : 'pods matching its podSelector'} of ${
            b.denyList
              ? 'every namespace its namespaceSelector does not exclude, so of any new namespace created without labels,'
              : 'every namespace, including namespaces created later,'
          } on ${formatPorts(b.ports)}`,
      );
      if (open) notes.push(openIngressNote(context, workload, ', so every namespace may reach it'));
      const evidence = mergeEvidence(
        { rules: broad.map(broadPeerEvidence), notes },
        edgesOf(fromOtherNamespaces(context, workload)),
      );
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence,
        remediation: restrictRemediation(context, workload, 'traffic from every namespace'),
        location: locationOf(broad[0]?.policy.provenance ?? workload.provenance),
      });
    }
    return findings;
  },
};
