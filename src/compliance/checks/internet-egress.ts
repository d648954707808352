import { ALL_ADDRESSES, toCidrs } from '../../engine/addresses.ts';
import { type IntervalSet, intersect, subtract, union } from '../../engine/intervals.ts';
import type { Workload } from '../../model/types.ts';
import { indent, policyYaml, scalar, selectorYaml } from '../remediation/manifests.ts';
import { keepAddresses, rewriteRules, withTiers } from '../remediation/rewrite-rules.ts';
import { workloadSelector } from '../remediation/workload-policies.ts';
import type { AuditContext, Check, FindingDraft, Remediation } from '../types.ts';
import { addressSet, connectionsOf, edgeText, NON_PUBLIC_ADDRESSES, phiWorkloads } from './support.ts';
import { allowedEgressOf, firstAddress, PRIVATE } from './util-addresses.ts';
import {
  cappedEdges,
  findingLocation,
  opennessNotes,
  type Responsible,
  ruleEntries,
  rulesForAddresses,
  type WorkloadIsolation,
  workloadIsolation,
} from './util-attribution.ts';
import { clusterDnsAddresses, DNS_RULE_YAML } from './util-dns.ts';

/** HIPAA-NP-016: internet egress from PHI is the exfiltration path that segmentation exists to close. */
export const check016: Check = {
  id: 'HIPAA-NP-016',
  run(context) {
    const allowed = allowedEgressOf(context);
    const internet = subtract(
      subtract(subtract(ALL_ADDRESSES, NON_PUBLIC_ADDRESSES), allowed.cidrs),
      clusterDnsAddresses(context),
    );
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      let reached: IntervalSet<bigint> = [];
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        if (!('external' in connection.dst)) continue;
        const publicPart = intersect(addressSet(connection.dst.external), internet);
        if (publicPart.length === 0) continue;
        reached = union(reached, publicPart);
        // The block as the engine reports it: the public remainder as CIDRs would run to hundreds.
        edges.push(edgeText(connection));
      }
      if (reached.length === 0) continue;
      const isolation = workloadIsolation(context, workload, 'egress');
      const responsible = rulesForAddresses(context, workload, 'egress', reached);
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules: ruleEntries(responsible),
          notes: [
            `the blocks above include internet addresses, e.g. ${firstAddress(reached)}; private and special-purpose ranges${allowed.cidrs.length ? ', allowedEgress' : ''} and cluster DNS are not counted`,
            ...opennessNotes(isolation, 'egress'),
            ...capped.notes,
          ],
        },
        remediation: withTiers(
          responsible,
          remediation016Own(context, workload, isolation, responsible, allowed.cidrs),
        ),
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
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
