import { portsOf } from '../../engine/compile.ts';
import { subtract } from '../../engine/intervals.ts';
import { intersectPorts, isEmptyPorts, subtractPorts } from '../../engine/ports.ts';
import type { Workload } from '../../model/types.ts';
import { indent, policyYaml, selectorYaml } from '../remediation/manifests.ts';
import { rewriteRules, withTiers } from '../remediation/rewrite-rules.ts';
import { workloadSelector } from '../remediation/workload-policies.ts';
import type { Check, Remediation } from '../types.ts';
import { addressSet, connectionsOf, edgeText } from './support.ts';
import {
  isNetworkPolicyRule,
  type NetworkPolicyResponsible,
  type Responsible,
  responsibleRef,
  restrictPorts,
  rulesForAddresses,
  rulesForWorkload,
  type WorkloadIsolation,
} from './util-attribution.ts';
import { clusterDnsAddresses, DNS_PEER, DNS_PORTS, DNS_RULE_YAML, isClusterDns } from './util-dns.ts';
import { egressFindings } from './util-egress.ts';

/** HIPAA-NP-017: DNS to any host tunnels data out through queries; only cluster DNS pods should answer. */
export const check017: Check = {
  id: 'HIPAA-NP-017',
  run(context) {
    const dnsAddresses = clusterDnsAddresses(context);
    return egressFindings(
      context,
      (workload) => {
        const edges: string[] = [];
        const responsible: Responsible[] = [];
        for (const connection of connectionsOf(context, workload.id, 'egress')) {
          if (isEmptyPorts(intersectPorts(connection.ports, DNS_PORTS))) continue;
          const dst = connection.dst;
          if ('external' in dst) {
            const other = subtract(addressSet(dst.external), dnsAddresses);
            if (other.length === 0) continue;
            responsible.push(...rulesForAddresses(context, workload, 'egress', other, DNS_PORTS));
          } else {
            const target = context.workloadById.get(dst.workload);
            if (!target || isClusterDns(target)) continue;
            responsible.push(...rulesForWorkload(context, workload, target, 'egress', DNS_PORTS));
          }
          edges.push(edgeText(restrictPorts(connection, DNS_PORTS)));
        }
        const note =
          'port 53 is reachable on hosts other than the cluster DNS pods (kube-system, k8s-app: kube-dns)';
        return { edges, responsible, note };
      },
      (workload, isolation, responsible) =>
        withTiers(responsible, remediation017Own(workload, isolation, responsible)),
    );
  },
};

function remediation017Own(
  workload: Workload,
  isolation: WorkloadIsolation,
  responsible: readonly Responsible[],
): Remediation {
  if (isolation.hostNetwork)
    return { text: 'Run the workload without hostNetwork (HIPAA-NP-023); policies cannot limit its DNS.' };
  // A rule that exists only for DNS can be scoped in place; one that also carries other ports needs a person.
  const dnsOnly = responsible
    .filter(isNetworkPolicyRule)
    .filter(
      ({ rule }) =>
        rule.ports !== undefined && isEmptyPorts(subtractPorts(portsOf(rule.ports, undefined), DNS_PORTS)),
    );
  const mixed = responsible
    .filter((r) => !dnsOnly.includes(r as NetworkPolicyResponsible))
    .map(responsibleRef);
  const mixedText = mixed.length ? ` Remove port 53 (or the any-host peers) from ${mixed.join(', ')}.` : '';
  if (dnsOnly.length > 0) {
    return {
      text: `Scope the DNS rules to the cluster DNS pods on 53/UDP,TCP (rewritten policies below).${mixedText}`,
      yaml: rewriteRules(dnsOnly, (rule) => ({ ...rule, peers: [DNS_PEER] })),
    };
  }
  const selector = workloadSelector(workload);
  const spec = `podSelector: ${selector ? selectorYaml(selector) : '{}'}\npolicyTypes: [Egress]\negress:\n${indent(DNS_RULE_YAML)}`;
  return {
    text:
      `Allow DNS only to the cluster DNS pods with the policy below.${mixedText}` +
      (isolation.isolated
        ? ''
        : ` ${workload.id} is not egress-isolated: the policy isolates it, so add rules for what else it calls.`),
    yaml: policyYaml(workload.namespace, `${workload.name}-dns-egress`, spec),
  };
}
