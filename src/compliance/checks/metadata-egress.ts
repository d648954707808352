import { ALL_ADDRESSES, toCidrs } from '../../engine/addresses.ts';
import type { IntervalSet } from '../../engine/intervals.ts';
import type { PolicyRule, Workload } from '../../model/types.ts';
import { indent, policyYaml, ruleYaml, selectorYaml } from '../remediation/manifests.ts';
import { keepAddresses, rewriteRules, withTiers } from '../remediation/rewrite-rules.ts';
import { workloadSelector } from '../remediation/workload-policies.ts';
import type { Check, Remediation } from '../types.ts';
import { addressSet } from './support.ts';
import { type Responsible, rulesForAddresses, type WorkloadIsolation } from './util-attribution.ts';
import { egressFindings, externalReach } from './util-egress.ts';

/** HIPAA-NP-018: the metadata service hands out node credentials; PHI pods never need it. */
export const check018: Check = {
  id: 'HIPAA-NP-018',
  run(context) {
    const metadata = addressSet(context.config.metadataCIDRs);
    return egressFindings(
      context,
      (workload) => {
        const { edges, reached } = externalReach(context, workload, metadata, 'hit');
        if (reached.length === 0) return undefined;
        return {
          edges,
          responsible: rulesForAddresses(context, workload, 'egress', reached),
          note: `metadata addresses reachable: ${toCidrs(reached).join(', ')}`,
        };
      },
      (workload, isolation, responsible) =>
        withTiers(responsible, remediation018Own(workload, isolation, responsible, metadata)),
    );
  },
};

function remediation018Own(
  workload: Workload,
  isolation: WorkloadIsolation,
  responsible: readonly Responsible[],
  metadata: IntervalSet<bigint>,
): Remediation {
  if (isolation.hostNetwork)
    return { text: "Run the workload without hostNetwork (HIPAA-NP-023); its traffic is the node's." };
  if (!isolation.isolated) {
    const selector = workloadSelector(workload);
    const text =
      `Isolate ${workload.id} for egress with the policy below: it allows every destination except the ` +
      'metadata addresses (narrow it further for HIPAA-NP-016).';
    if (!selector) return { text: `${text} Its pods carry no labels to select them by: label them first.` };
    const rule = keepAddresses(
      { direction: 'egress', index: 0, provenance: workload.provenance },
      ALL_ADDRESSES,
      metadata,
    ) as PolicyRule;
    const spec = `podSelector: ${selectorYaml(selector)}\npolicyTypes: [Egress]\negress:\n${indent(ruleYaml(rule))}`;
    return { text, yaml: policyYaml(workload.namespace, `${workload.name}-no-metadata`, spec) };
  }
  return {
    text:
      'Except the metadata addresses from the rules that reach them (rewritten policies below; replace the ' +
      'originals, as policies are additive).',
    yaml: rewriteRules(responsible, (rule) => keepAddresses(rule, ALL_ADDRESSES, metadata)),
  };
}
