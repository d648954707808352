import {
  type GeneratedPeer,
  type GeneratedPolicy,
  type GeneratedPort,
  type GeneratedRule,
  NAME_LABEL,
} from '../analysis/generate.ts';
import { NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL } from '../model/cilium.ts';
import type { LabelSelector } from '../model/types.ts';
import { comment, item, policyHead, scalar, selectorLines } from './generated-policies.ts';

/**
 * Generated policies written as CiliumNetworkPolicies (cilium.io/v2), the same meaning as the
 * Kubernetes form under Cilium: a direction the policy governs with no rule gets an empty rule `{}`,
 * which isolates without allowing; a peer's namespace becomes the `k8s:io.kubernetes.pod.namespace`
 * label; address blocks become toCIDRSet (or the world entity when they are every address); the
 * allow-dns policy's rule carries `rules: dns` so that Cilium's DNS proxy sees the lookups toFQDNs
 * rules learn from. Cilium rejects a rule that combines kinds of peer (toEndpoints with toCIDRSet …),
 * so a rule is written once per kind, with the same ports.
 */

const NAMESPACE_KEY = `k8s:${POD_NAMESPACE_LABEL}`;
/** Cilium's limit of ports in one toPorts entry. */
const MAX_PORTS = 40;

/** A NetworkPolicy peer's pod and namespace selectors as one Cilium endpoint selector. */
function endpointSelector(peer: {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}): LabelSelector {
  const matchLabels: Record<string, string> = { ...peer.podSelector?.matchLabels };
  const matchExpressions = [...(peer.podSelector?.matchExpressions ?? [])];
  const namespaces = peer.namespaceSelector;
  if (namespaces) {
    const key = (k: string) => (k === NAME_LABEL ? NAMESPACE_KEY : `k8s:${NAMESPACE_LABELS_PREFIX}${k}`);
    for (const [k, v] of Object.entries(namespaces.matchLabels)) matchLabels[key(k)] = v;
    for (const e of namespaces.matchExpressions) matchExpressions.push({ ...e, key: key(e.key) });
    // Without a namespace key Cilium confines the selector to the policy's own namespace.
    if (!(NAMESPACE_KEY in matchLabels) && !matchExpressions.some((e) => e.key === NAMESPACE_KEY))
      matchExpressions.push({ key: NAMESPACE_KEY, operator: 'Exists', values: [] });
  }
  return { matchLabels, matchExpressions };
}

function portLines(ports: readonly GeneratedPort[], dns: boolean, indent: string): string[] {
  if (ports.length === 0) return [];
  const lines = [`${indent}toPorts:`];
  for (let i = 0; i < ports.length; i += MAX_PORTS) {
    lines.push(`${indent}  - ports:`);
    for (const p of ports.slice(i, i + MAX_PORTS)) {
      const end = p.endPort !== undefined ? `, endPort: ${p.endPort}` : '';
      lines.push(`${indent}      - {port: "${p.port}"${end}, protocol: ${p.protocol}}`);
    }
    if (dns) lines.push(`${indent}    rules:`, `${indent}      dns: [{matchPattern: "*"}]`);
  }
  return lines;
}

/** The peers of one rule, by the Cilium field each kind goes in. */
function peerFields(peers: readonly GeneratedPeer[], prefix: 'from' | 'to', indent: string): string[][] {
  const endpoints: string[] = [];
  const cidrs: string[] = [];
  const entities = new Set<string>();
  const fqdns: string[] = [];
  const blocks = new Set<string>();
  for (const peer of peers) {
    if ('ipBlock' in peer && !peer.except?.length) blocks.add(peer.ipBlock);
  }
  // Cilium applies CIDR rules outside the cluster only: every address of a family is that world entity.
  const whole = { v4: blocks.has('0.0.0.0/0'), v6: blocks.has('::/0') };
  if (whole.v4 && whole.v6) entities.add('world');
  else if (whole.v4) entities.add('world-ipv4');
  else if (whole.v6) entities.add('world-ipv6');
  for (const peer of peers) {
    if ('fqdn' in peer) fqdns.push(`${indent}    - matchName: ${scalar(peer.fqdn)}`);
    else if ('entity' in peer) entities.add(peer.entity);
    else if ('ipBlock' in peer) {
      if (!peer.except?.length && (peer.ipBlock === '0.0.0.0/0' || peer.ipBlock === '::/0')) continue;
      const except = peer.except?.length ? `, except: [${peer.except.map(scalar).join(', ')}]` : '';
      cidrs.push(`${indent}    - {cidr: ${scalar(peer.ipBlock)}${except}}`);
    } else {
      const selector = endpointSelector(peer);
      const lines = selectorLines('selector', selector, `${indent}    `);
      endpoints.push(...(lines.length === 1 ? [`${indent}    - {}`] : item(lines.slice(1), `${indent}    `)));
    }
  }
  return [
    endpoints.length > 0 ? [`${indent}  ${prefix}Endpoints:`, ...endpoints] : [],
    cidrs.length > 0 ? [`${indent}  ${prefix}CIDRSet:`, ...cidrs] : [],
    entities.size > 0 ? [`${indent}  ${prefix}Entities: [${[...entities].join(', ')}]`] : [],
    fqdns.length > 0 ? [`${indent}  toFQDNs:`, ...fqdns] : [],
  ].filter((lines) => lines.length > 0);
}

function ruleLines(rule: GeneratedRule, direction: 'ingress' | 'egress', dns: boolean): string[] {
  const indent = '    ';
  const ports = portLines(rule.ports, dns, `${indent}  `);
  const fields = peerFields(rule.peers, direction === 'ingress' ? 'from' : 'to', indent);
  const lines = rule.comments.flatMap((c) => comment(c, indent));
  for (const field of fields) lines.push(...item([...field, ...ports], indent));
  return lines;
}

export function renderCiliumPolicy(policy: GeneratedPolicy): string {
  const lines = [
    ...policyHead(policy, 'cilium.io/v2', 'CiliumNetworkPolicy'),
    ...selectorLines('endpointSelector', policy.podSelector, '  '),
  ];
  for (const direction of ['ingress', 'egress'] as const) {
    if (!policy.policyTypes.includes(direction === 'ingress' ? 'Ingress' : 'Egress')) continue;
    const rules = policy[direction];
    lines.push(`  ${direction}:`);
    if (rules.length === 0)
      lines.push('    # No rule of its own: the empty rule isolates, allowing nothing.', '    - {}');
    else lines.push(...rules.flatMap((rule) => ruleLines(rule, direction, policy.role === 'allow-dns')));
  }
  return `${lines.join('\n')}\n`;
}
