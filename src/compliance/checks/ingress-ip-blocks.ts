import { ALL_ADDRESSES, ipBlockAddresses, parseCidr } from '../../engine/addresses.ts';
import { intersect } from '../../engine/intervals.ts';
import { formatPorts } from '../../engine/ports.ts';
import { where } from '../../report/explain.ts';
import type { Check, Evidence, FindingDraft } from '../types.ts';
import { addressSet, connectionsOf, edgeText, locationOf, phiWorkloads } from './support.ts';
import { cappedEdges, isNetworkPolicyRule, ruleRef, rulesForAddresses } from './util-attribution.ts';

/** HIPAA-NP-015: a wide ipBlock admits networks nobody enumerated; /16 and /48 are the catalogue's bound. */
export const check015: Check = {
  id: 'HIPAA-NP-015',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      const edges = new Set<string>();
      let location: { file: string; line: number } | undefined;
      const external = connectionsOf(context, workload.id, 'ingress').filter((c) => 'external' in c.src);
      const admitting = rulesForAddresses(context, workload, 'ingress', ALL_ADDRESSES);
      for (const { policy, rule, ports } of admitting.filter(isNetworkPolicyRule)) {
        rule.peers?.forEach((peer, index) => {
          if (peer.kind !== 'ipBlock') return;
          const cidr = parseCidr(peer.ipBlock.cidr);
          if (!cidr || cidr.prefix >= (cidr.family === 4 ? 16 : 48)) return;
          location ??= locationOf(rule.provenance);
          rules.push({ rule: ruleRef(policy, rule, index), at: where(rule.provenance) });
          const except = peer.ipBlock.except.length ? ` except ${peer.ipBlock.except.join(', ')}` : '';
          notes.push(
            `ipBlock ${peer.ipBlock.cidr}${except} is a /${cidr.prefix}, broader than /${cidr.family === 4 ? 16 : 48}; admits ${formatPorts(ports)}`,
          );
          const block = ipBlockAddresses(peer.ipBlock);
          for (const connection of external) {
            if (
              'external' in connection.src &&
              intersect(addressSet(connection.src.external), block).length > 0
            )
              edges.add(edgeText(connection));
          }
        });
      }
      if (rules.length === 0) continue;
      const capped = cappedEdges([...edges]);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: { edges: capped.edges, rules, notes: [...notes, ...capped.notes] },
        remediation: {
          text:
            'Replace each broad ipBlock with the specific networks that must reach this PHI workload ' +
            '(a load balancer or partner range, /16 or narrower for IPv4, /48 or narrower for IPv6).',
        },
        location: location ?? locationOf(workload.provenance),
      });
    }
    return findings;
  },
};
