import { clusterPortsOf, portsOf } from '../../engine/compile.ts';
import { isEmptyPorts, NO_PORTS } from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  clusterPolicyId,
  clusterRuleId,
  type LabelSelector,
  type NetworkPolicy,
  type PolicyPeer,
  type PolicyRule,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import { selectorYaml } from '../remediation/manifests.ts';
import { rewriteRules } from '../remediation/rewrite-rules.ts';
import type { AuditContext, Check, Evidence, FindingDraft, Remediation } from '../types.ts';
import { connectionsOf, edgeText, locationOf, NAME_LABEL, onePodPerClass, phiWorkloads } from './support.ts';
import { clusterRulesOf, isolationOf, type TierRule } from './tier-support.ts';
import { cappedEdges, type Responsible, ruleRef, workloadIsolation } from './util-attribution.ts';

/** HIPAA-NP-013: namespace peers into PHI should pin names, since anyone who can label a namespace can widen them. */
export const check013: Check = {
  id: 'HIPAA-NP-013',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      const edges: string[] = [];
      const offending: { policy: NetworkPolicy; rule: PolicyRule; peer: number }[] = [];
      const incoming = connectionsOf(context, workload.id, 'ingress');
      for (const policy of workloadIsolation(context, workload, 'ingress').policies) {
        for (const rule of policy.ingress) {
          const admitsSubject = workload.pods.some(
            (pod) => !isEmptyPorts(portsOf(rule.ports, context.engine.classOf(pod))),
          );
          if (!admitsSubject) continue;
          rule.peers?.forEach((peer, index) => {
            if (peer.kind !== 'pods' || !peer.namespaceSelector) return;
            const custom = mutableKeys(peer.namespaceSelector);
            if (custom.length === 0) return;
            offending.push({ policy, rule, peer: index });
            rules.push({ rule: ruleRef(policy, rule, index), at: where(rule.provenance) });
            const matched = matchedNamespaces(context, peer.namespaceSelector);
            notes.push(
              `${ruleRef(policy, rule, index)}: namespaceSelector ${selectorYaml(peer.namespaceSelector)} selects by ${custom.join(', ')}; ` +
                `now matches ${matched.length ? matched.join(', ') : 'no namespace'}, and any namespace labelled so later gains access`,
            );
            for (const connection of incoming) {
              if (!('workload' in connection.src)) continue;
              const source = context.workloadById.get(connection.src.workload);
              if (source && peerAdmits(context, peer, source)) edges.push(edgeText(connection));
            }
          });
        }
      }
      // Admin- and Baseline-tier Allow rules admitting by namespace label: an Admin-tier one no
      // NetworkPolicy can undo. Baseline-tier ones count only where no NetworkPolicy isolates the pod.
      const tierOffending: TierRule[] = [];
      for (const pod of onePodPerClass(context, workload)) {
        const isolated = isolationOf(context, pod, 'ingress').kind === 'networkPolicy';
        for (const entry of clusterRulesOf(context, pod, 'ingress')) {
          const { policy, rule } = entry;
          if (rule.action !== 'Allow' || (policy.tier === 'Baseline' && isolated)) continue;
          if (isEmptyPorts(clusterPortsOf(rule.ports, context.engine.classOf(pod)))) continue;
          rule.peers.forEach((peer, index) => {
            if (peer.kind !== 'pods') return;
            const custom = mutableKeys(peer.namespaceSelector);
            const ref = `${clusterRuleId(policy, rule)} from[${index}]`;
            if (custom.length === 0 || rules.some((r) => r.rule === ref)) return;
            tierOffending.push(entry);
            rules.push({ rule: ref, at: where(rule.provenance) });
            const matched = matchedNamespaces(context, peer.namespaceSelector);
            notes.push(
              `${ref}: namespaces ${selectorYaml(peer.namespaceSelector)} selects by ${custom.join(', ')}; now matches ${matched.length ? matched.join(', ') : 'no namespace'}, and any namespace labelled so later gains access${policy.tier === 'Admin' ? ' that no NetworkPolicy can take away' : ''}`,
            );
            for (const connection of incoming) {
              if (!('workload' in connection.src)) continue;
              const source = context.workloadById.get(connection.src.workload);
              if (source && peerAdmits(context, peer, source)) edges.push(edgeText(connection));
            }
          });
        }
      }
      if (offending.length === 0 && tierOffending.length === 0) continue;
      const capped = cappedEdges([...new Set(edges)]);
      const firstRule = offending[0]?.rule ?? (tierOffending[0] as TierRule).rule;
      const tierText =
        tierOffending.length > 0
          ? ` In the Admin/Baseline-tier rules cited (${[...new Set(tierOffending.map((t) => clusterRuleId(t.policy, t.rule)))].join(', ')}), a cluster administrator must do the same: select namespaces by kubernetes.io/metadata.name.`
          : '';
      const remediation: Remediation =
        offending.length > 0
          ? remediation013(context, offending)
          : {
              text: 'Select namespaces by their immutable name (kubernetes.io/metadata.name, set by the API server) instead of a label any namespace editor can add.',
            };
      findings.push({
        status: 'fail',
        objects: [
          workload.id,
          ...new Set(offending.map((o) => `${o.policy.namespace}/${o.policy.name}`)),
          ...new Set(tierOffending.map((t) => clusterPolicyId(t.policy))),
        ],
        evidence: { edges: capped.edges, rules, notes: [...notes, ...capped.notes] },
        remediation: { ...remediation, text: `${remediation.text}${tierText}` },
        location: locationOf(firstRule.provenance),
      });
    }
    return findings;
  },
};

/** Keys other than the immutable name, unless the name is pinned too (then a custom key only narrows). */
function mutableKeys(selector: LabelSelector): string[] {
  const pinned =
    Object.hasOwn(selector.matchLabels, NAME_LABEL) ||
    selector.matchExpressions.some((e) => e.key === NAME_LABEL && e.operator === 'In');
  if (pinned) return [];
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  return [...new Set(keys.filter((key) => key !== NAME_LABEL))];
}

function matchedNamespaces(context: AuditContext, selector: LabelSelector): string[] {
  return [...context.snapshot.namespaces.values()]
    .filter((ns) => selectorMatches(selector, ns.labels))
    .map((ns) => ns.name)
    .sort();
}

function peerAdmits(context: AuditContext, peer: PolicyPeer & { kind: 'pods' }, source: Workload): boolean {
  const labels = context.snapshot.namespaces.get(source.namespace)?.labels ?? {};
  if (peer.namespaceSelector && !selectorMatches(peer.namespaceSelector, labels)) return false;
  return source.pods.some((pod) => !peer.podSelector || selectorMatches(peer.podSelector, pod.labels));
}

function remediation013(
  context: AuditContext,
  offending: readonly { policy: NetworkPolicy; rule: PolicyRule; peer: number }[],
): Remediation {
  const pinned = (rule: PolicyRule): PolicyRule | undefined => {
    const indexes = new Set(offending.filter((o) => o.rule === rule).map((o) => o.peer));
    const peers = (rule.peers ?? []).flatMap((peer, index): PolicyPeer[] => {
      if (!indexes.has(index) || peer.kind !== 'pods' || !peer.namespaceSelector) return [peer];
      const names = matchedNamespaces(context, peer.namespaceSelector);
      if (names.length === 0) return [];
      const namespaceSelector: LabelSelector = {
        matchLabels: {},
        matchExpressions: [{ key: NAME_LABEL, operator: 'In', values: names }],
      };
      return [{ ...peer, namespaceSelector }];
    });
    return peers.length ? { ...rule, peers } : undefined;
  };
  const responsible = offending.map(
    ({ policy, rule }): Responsible => ({ kind: 'networkPolicy', policy, rule, ports: NO_PORTS }),
  );
  return {
    text:
      'Select namespaces by their immutable name (kubernetes.io/metadata.name, set by the API server) ' +
      'instead of a label any namespace editor can add. The policy below pins the namespaces the label ' +
      'matches today (review the list) and drops peers that match none.',
    yaml: rewriteRules(responsible, pinned),
  };
}
