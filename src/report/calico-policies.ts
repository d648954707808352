import {
  type GeneratedPeer,
  type GeneratedPolicy,
  type GeneratedRule,
  selectorOrBlock,
} from '../analysis/generate.ts';
import type { LabelSelector } from '../model/types.ts';
import { policyHead, scalar } from './generated-policies.ts';

/**
 * Generated policies written as Calico NetworkPolicies (projectcalico.org/v3), for clusters that
 * manage policy in Calico's own kinds: the same meaning as the Kubernetes form, in the default tier at
 * order 1000 where Calico puts Kubernetes NetworkPolicies. A Kubernetes rule with several peers or
 * protocols becomes one Allow rule per peer and protocol, as a Calico rule names one of each.
 */

/** A Kubernetes label selector in Calico's selector language. */
export function calicoSelectorText(selector: LabelSelector): string {
  const quote = (value: string) => `'${value}'`;
  const terms = [
    ...Object.entries(selector.matchLabels).map(([k, v]) => `${k} == ${quote(v)}`),
    ...selector.matchExpressions.map((e) => {
      const set = `{${e.values.map(quote).join(', ')}}`;
      if (e.operator === 'In') return `${e.key} in ${set}`;
      if (e.operator === 'NotIn') return `${e.key} not in ${set}`;
      return e.operator === 'Exists' ? `has(${e.key})` : `!has(${e.key})`;
    }),
  ];
  return terms.length === 0 ? 'all()' : terms.join(' && ');
}

function entityLines(written: GeneratedPeer, indent: string): string[] {
  const peer = selectorOrBlock(written);
  if ('ipBlock' in peer) return [`${indent}nets: [${scalar(peer.ipBlock)}]`];
  const lines: string[] = [];
  if (peer.namespaceSelector)
    lines.push(`${indent}namespaceSelector: ${JSON.stringify(calicoSelectorText(peer.namespaceSelector))}`);
  // A namespaceSelector alone admits every pod of those namespaces; a podSelector alone, the policy's own.
  if (peer.podSelector)
    lines.push(`${indent}selector: ${JSON.stringify(calicoSelectorText(peer.podSelector))}`);
  return lines;
}

const comments = (texts: readonly string[], indent: string) =>
  texts.flatMap((text) => text.split('\n').map((line) => `${indent}# ${line}`.trimEnd()));

function ruleLines(rule: GeneratedRule, direction: 'ingress' | 'egress'): string[] {
  const byProtocol = new Map<string, string[]>();
  for (const port of rule.ports) {
    const text =
      port.endPort !== undefined ? JSON.stringify(`${port.port}:${port.endPort}`) : String(port.port);
    byProtocol.set(port.protocol, [...(byProtocol.get(port.protocol) ?? []), text]);
  }
  const protocols: [string | undefined, string[]][] =
    byProtocol.size > 0 ? [...byProtocol] : [[undefined, []]];
  const lines = comments(rule.comments, '    ');
  for (const peer of rule.peers) {
    for (const [protocol, ports] of protocols) {
      lines.push('    - action: Allow');
      if (protocol) lines.push(`      protocol: ${protocol}`);
      const entity = entityLines(peer, '        ');
      const portLines = ports.length > 0 ? [`        ports: [${ports.join(', ')}]`] : [];
      // The ports are always the destination's: beside the peer in egress, on their own in ingress.
      if (direction === 'ingress') {
        if (entity.length > 0) lines.push('      source:', ...entity);
        if (portLines.length > 0) lines.push('      destination:', ...portLines);
      } else if (entity.length + portLines.length > 0) {
        lines.push('      destination:', ...entity, ...portLines);
      }
    }
  }
  return lines;
}

export function renderCalicoPolicy(policy: GeneratedPolicy): string {
  const lines = [
    ...policyHead(policy, 'projectcalico.org/v3', 'NetworkPolicy'),
    '  order: 1000',
    `  selector: ${JSON.stringify(calicoSelectorText(policy.podSelector))}`,
    `  types: [${policy.policyTypes.join(', ')}]`,
  ];
  if (policy.ingress.length > 0)
    lines.push('  ingress:', ...policy.ingress.flatMap((r) => ruleLines(r, 'ingress')));
  if (policy.egress.length > 0)
    lines.push('  egress:', ...policy.egress.flatMap((r) => ruleLines(r, 'egress')));
  return `${lines.join('\n')}\n`;
}
