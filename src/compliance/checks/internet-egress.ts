import { ALL_ADDRESSES, toCidrs } from '../../engine/addresses.ts';
import { type IntervalSet, subtract, union } from '../../engine/intervals.ts';
import type { Workload } from '../../model/types.ts';
import { indent, policyYaml, scalar, selectorYaml } from '../remediation/manifests.ts';
import { keepAddresses, rewriteRules, withTiers } from '../remediation/rewrite-rules.ts';
import { workloadSelector } from '../remediation/workload-policies.ts';
import type { AuditContext, Check, Remediation } from '../types.ts';
import { addressSet, NON_PUBLIC_ADDRESSES } from './support.ts';
import { allowedEgressOf, firstAddress, PRIVATE } from './util-addresses.ts';
import { type Responsible, rulesForAddresses, type WorkloadIsolation } from './util-attribution.ts';
import { clusterDnsAddresses, DNS_RULE_YAML } from './util-dns.ts';
import { egressFindings, externalReach, type NamedEgress, namedEgress } from './util-egress.ts';

/** HIPAA-NP-016: internet egress from PHI is the exfiltration path that segmentation exists to close. */
export const check016: Check = {
  id: 'HIPAA-NP-016',
  run(context) {
    const allowed = allowedEgressOf(context);
    const internet = subtract(
      subtract(subtract(ALL_ADDRESSES, NON_PUBLIC_ADDRESSES), allowed.cidrs),
      clusterDnsAddresses(context),
    );
    const namedOf = new Map<Workload, NamedEgress>();
    return egressFindings(
      context,
      (workload) => {
        const { edges, reached } = externalReach(context, workload, internet, 'whole');
        const named = namedEgress(context, workload, allowed.names);
        namedOf.set(workload, named);
        if (reached.length === 0 && named.edges.length === 0) return undefined;
        const notes = [
          ...(reached.length > 0
            ? [
                `the blocks above include internet addresses, e.g. ${firstAddress(reached)}; private and special-purpose ranges${allowed.cidrs.length ? ', allowedEgress' : ''} and cluster DNS are not counted`,
              ]
            : []),
          ...(named.edges.length > 0
            ? [
                `${named.names.join(', ')}: named by Cilium toFQDNs rules, reached at whatever addresses DNS returns, all outside the cluster, so counted as internet; approved names go in allowedEgress as fqdn:<pattern>`,
              ]
            : []),
        ];
        return {
          edges: [...edges, ...named.edges],
          responsible: reached.length > 0 ? rulesForAddresses(context, workload, 'egress', reached) : [],
          note: notes.join('; '),
          kindRules: named.rules,
          ...(named.location ? { kindLocation: named.location } : {}),
        };
      },
      (workload, isolation, responsible) => {
        const own = remediation016Own(context, workload, isolation, responsible, allowed.cidrs);
        const named = namedOf.get(workload);
        if (!named?.edges.length) return withTiers(responsible, own);
        const text = `Narrow the toFQDNs rules listed (${named.names.join(', ')}) to the names ${workload.id} must call, and add those to allowedEgress as fqdn:<pattern> once approved.`;
        if (responsible.length === 0 && isolation.isolated) return { text };
        return withTiers(responsible, { ...own, text: `${own.text} ${text}` });
      },
    );
  },
};

function remediation016Own(
  context: AuditContext,
  workload: Workload,
  isolation: WorkloadIsolation,
  responsible: readonly Responsible[],
  allowedCidrs: IntervalSet<bigint>,
): Remediation {
  const allowedList = toCidrs(allowedCidrs);
  if (isolation.hostNetwork)
    return { text: 'Run the workload without hostNetwork (HIPAA-NP-023); policies cannot limit its egress.' };
  if (!isolation.isolated) {
    const selector = workloadSelector(workload);
    const text =
      `Isolate ${workload.id} for egress: the policy below allows cluster DNS, pods of its own namespace and ` +
      'allowedEgress only; add rules for the other in-cluster services it calls before applying.';
    if (!selector) return { text: `${text} Its pods carry no labels to select them by: label them first.` };
    const extra = allowedList.map((cidr) => `\n- to:\n    - {ipBlock: {cidr: ${scalar(cidr)}}}`).join('');
    const spec = `podSelector: ${selectorYaml(selector)}\npolicyTypes: [Egress]\negress:\n${indent(`${DNS_RULE_YAML}\n- to:\n    - {podSelector: {}}${extra}`)}`;
    return { text, yaml: policyYaml(workload.namespace, `${workload.name}-egress`, spec) };
  }
  const keep = union(union(PRIVATE, allowedCidrs), clusterDnsAddresses(context));
  const metadata = addressSet(context.config.metadataCIDRs);
  return {
    text:
      'Narrow the rules that admit internet addresses to private ranges and allowedEgress; the rewritten ' +
      'policies below keep every pod peer and add the internet as ipBlock excepts (replace, do not add: ' +
      'policies are additive).',
    yaml: rewriteRules(responsible, (rule) => keepAddresses(rule, keep, metadata)),
  };
}
