import type { LabelSelector, NetworkPolicy, PolicyPeer, PolicyRule } from '../../model/types.ts';

export const PEER_FIELD = { ingress: 'from', egress: 'to' } as const;

export function scalar(text: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(text) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}

export function selectorYaml(selector: LabelSelector): string {
  const parts: string[] = [];
  const labels = Object.entries(selector.matchLabels);
  if (labels.length > 0)
    parts.push(`matchLabels: {${labels.map(([k, v]) => `${scalar(k)}: ${scalar(v)}`).join(', ')}}`);
  if (selector.matchExpressions.length > 0) {
    const expressions = selector.matchExpressions.map(({ key, operator, values }) => {
      const list =
        operator === 'In' || operator === 'NotIn' ? `, values: [${values.map(scalar).join(', ')}]` : '';
      return `{key: ${scalar(key)}, operator: ${operator}${list}}`;
    });
    parts.push(`matchExpressions: [${expressions.join(', ')}]`);
  }
  return `{${parts.join(', ')}}`;
}

function peerYaml(peer: PolicyPeer): string {
  if (peer.kind === 'ipBlock') {
    const except = peer.ipBlock.except.length
      ? `, except: [${peer.ipBlock.except.map(scalar).join(', ')}]`
      : '';
    return `{ipBlock: {cidr: ${scalar(peer.ipBlock.cidr)}${except}}}`;
  }
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`namespaceSelector: ${selectorYaml(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`podSelector: ${selectorYaml(peer.podSelector)}`);
  return `{${parts.join(', ')}}`;
}

export function ruleYaml(rule: PolicyRule): string {
  const lines: string[] = [];
  if (rule.peers) {
    lines.push(`${PEER_FIELD[rule.direction]}:`, ...rule.peers.map((p) => `  - ${peerYaml(p)}`));
  }
  if (rule.ports) {
    lines.push(
      'ports:',
      ...rule.ports.map((p) => {
        const port =
          p.port === undefined ? '' : `, port: ${typeof p.port === 'number' ? p.port : scalar(p.port)}`;
        const end = p.endPort === undefined ? '' : `, endPort: ${p.endPort}`;
        return `  - {protocol: ${p.protocol}${port}${end}}`;
      }),
    );
  }
  if (lines.length === 0) return '- {}';
  return lines.map((line, i) => `${i === 0 ? '- ' : '  '}${line}`).join('\n');
}

/**
 * A policy written back from its meaning, with some rules rewritten (undefined drops a rule). Policies
 * are additive, so narrowing what one allows means replacing it, not adding another.
 */
export function rewrittenPolicy(
  policy: NetworkPolicy,
  edit: (rule: PolicyRule) => PolicyRule | undefined,
): string {
  const types = [policy.isolates.ingress ? 'Ingress' : '', policy.isolates.egress ? 'Egress' : ''].filter(
    Boolean,
  );
  const lines = [`podSelector: ${selectorYaml(policy.podSelector)}`, `policyTypes: [${types.join(', ')}]`];
  for (const direction of ['ingress', 'egress'] as const) {
    if (!policy.isolates[direction]) continue;
    const rules = policy[direction].flatMap((rule) => {
      const edited = edit(rule);
      return edited ? [ruleYaml(edited)] : [];
    });
    lines.push(rules.length ? `${direction}:\n${indent(rules.join('\n'))}` : `${direction}: []`);
  }
  return policyYaml(policy.namespace, policy.name, lines.join('\n'));
}

export function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** A NetworkPolicy manifest, for remediations that can be applied as they are. */
export function policyYaml(namespace: string, name: string, spec: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${spec
  .trim()
  .split('\n')
  .map((line) => `  ${line}`)
  .join('\n')}
`;
}

export function defaultDenyYaml(namespace: string): string {
  return policyYaml(namespace, 'default-deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]');
}
