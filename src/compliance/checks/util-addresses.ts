import { parseCidr, toCidrs } from '../../engine/addresses.ts';
import type { IntervalSet } from '../../engine/intervals.ts';
import type { AuditContext } from '../types.ts';
import { addressSet } from './support.ts';

/** What a suggested egress policy keeps when it takes the internet away: the private networks. */
export const PRIVATE = addressSet([
  '10.0.0.0/8',
  '100.64.0.0/10',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
]);

export function firstAddress(set: IntervalSet<bigint>): string | undefined {
  const first = set[0];
  return first ? toCidrs([[first[0], first[0]]])[0]?.split('/')[0] : undefined;
}

/**
 * allowedEgress split by what its entries name: CIDRs, names as Cilium's toFQDNs peers are shown
 * (`fqdn:*.example.com`; no namespace name has a colon), and namespaces.
 */
export function allowedEgressOf(context: AuditContext): {
  cidrs: IntervalSet<bigint>;
  namespaces: Set<string>;
  names: string[];
} {
  const cidrs: string[] = [];
  const namespaces = new Set<string>();
  const names: string[] = [];
  for (const entry of context.config.allowedEgress) {
    if (parseCidr(entry)) cidrs.push(entry);
    else if (entry.startsWith('fqdn:')) names.push(entry.toLowerCase().replace(/\.$/, ''));
    else namespaces.add(entry);
  }
  return { cidrs: addressSet(cidrs), namespaces, names };
}
