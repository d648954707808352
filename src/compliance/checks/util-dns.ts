import type { IntervalSet } from '../../engine/intervals.ts';
import { NO_PORTS, type PortSet } from '../../engine/ports.ts';
import type { PolicyPeer, Workload } from '../../model/types.ts';
import type { AuditContext } from '../types.ts';
import { addressSet, NAME_LABEL } from './support.ts';

export const DNS_PORTS: PortSet = { ...NO_PORTS, TCP: [[53, 53]], UDP: [[53, 53]] };

/** CoreDNS and kube-dns both carry `k8s-app: kube-dns`; NodeLocal DNSCache carries its own value. */
export function isClusterDns(workload: Workload): boolean {
  if (workload.namespace !== 'kube-system') return false;
  if (/^(coredns|kube-dns)$/.test(workload.name)) return true;
  return workload.pods.some((p) => ['kube-dns', 'node-local-dns'].includes(p.labels['k8s-app'] ?? ''));
}

/** ClusterIPs of the DNS Service: traffic to them is DNAT'd to the DNS pods, not sent anywhere else. */
export function clusterDnsAddresses(context: AuditContext): IntervalSet<bigint> {
  const ips: string[] = [];
  for (const service of context.snapshot.services) {
    if (service.namespace !== 'kube-system') continue;
    const spec = (service.object.spec ?? {}) as Record<string, unknown>;
    const selector = (spec.selector ?? {}) as Record<string, unknown>;
    if (service.name !== 'kube-dns' && selector['k8s-app'] !== 'kube-dns') continue;
    for (const ip of [spec.clusterIP, ...(Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [])]) {
      if (typeof ip === 'string') ips.push(ip.includes(':') ? `${ip}/128` : `${ip}/32`);
    }
  }
  return addressSet(ips);
}

export const DNS_PEER: PolicyPeer = {
  kind: 'pods',
  namespaceSelector: { matchLabels: { [NAME_LABEL]: 'kube-system' }, matchExpressions: [] },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: [] },
};

export const DNS_RULE_YAML = `- to:
    - namespaceSelector: {matchLabels: {${NAME_LABEL}: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}`;
