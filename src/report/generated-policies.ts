import { peerLabel } from '../analysis/flows.ts';
import {
  type GeneratedNamespace,
  type GeneratedPeer,
  type GeneratedPolicy,
  type GeneratedPort,
  type GeneratedRule,
  type Generation,
  type Proof,
  selectorOrBlock,
} from '../analysis/generate.ts';
import { formatPorts } from '../engine/ports.ts';
import type { LabelSelector } from '../model/types.ts';
import { renderCalicoPolicy } from './calico-policies.ts';
import { renderCiliumPolicy } from './cilium-policies.ts';

/**
 * YAML for generated NetworkPolicies, written by hand rather than through a serializer so that every
 * policy and rule carries its comment where a reviewer reads it: block style, keys in the order people
 * write them, ports in flow style one per line.
 */

/** A scalar as YAML reads it back as the same string: plain when safe, else double-quoted (JSON). */
export function scalar(text: string): string {
  // An IPv4 CIDR reads as a string; IPv6 stays quoted, as YAML 1.1 readers may take `1:2` for a number.
  if (/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text)) return text;
  const plain =
    /^[A-Za-z_][A-Za-z0-9._/-]*$/.test(text) &&
    !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(text) &&
    !text.endsWith('-');
  return plain ? text : JSON.stringify(text);
}

export function comment(text: string, indent: string): string[] {
  return text.split('\n').map((line) => `${indent}# ${line}`.trimEnd());
}

export function selectorLines(key: string, selector: LabelSelector, indent: string): string[] {
  const labels = Object.entries(selector.matchLabels);
  if (labels.length === 0 && selector.matchExpressions.length === 0) return [`${indent}${key}: {}`];
  const lines = [`${indent}${key}:`];
  if (labels.length > 0) {
    lines.push(`${indent}  matchLabels:`);
    for (const [k, v] of labels) lines.push(`${indent}    ${scalar(k)}: ${scalar(v)}`);
  }
  if (selector.matchExpressions.length > 0) {
    lines.push(`${indent}  matchExpressions:`);
    for (const e of selector.matchExpressions) {
      const values = e.values.length > 0 ? `, values: [${e.values.map(scalar).join(', ')}]` : '';
      lines.push(`${indent}    - {key: ${scalar(e.key)}, operator: ${e.operator}${values}}`);
    }
  }
  return lines;
}

/** Lines of a list item: the first line's indentation becomes `- `. */
export function item(lines: string[], indent: string): string[] {
  return lines.map((line, i) => (i === 0 ? `${indent}- ${line.slice(indent.length + 2)}` : line));
}

function peerLines(written: GeneratedPeer, indent: string): string[] {
  const peer = selectorOrBlock(written);
  const inner = `${indent}  `;
  if ('ipBlock' in peer) {
    const except = peer.except?.length ? [`${inner}  except: [${peer.except.map(scalar).join(', ')}]`] : [];
    return item([`${inner}ipBlock:`, `${inner}  cidr: ${scalar(peer.ipBlock)}`, ...except], indent);
  }
  return item(
    [
      ...(peer.namespaceSelector ? selectorLines('namespaceSelector', peer.namespaceSelector, inner) : []),
      ...(peer.podSelector ? selectorLines('podSelector', peer.podSelector, inner) : []),
    ],
    indent,
  );
}

function portLine(port: GeneratedPort, indent: string): string {
  const end = port.endPort !== undefined ? `, endPort: ${port.endPort}` : '';
  return `${indent}- {protocol: ${port.protocol}, port: ${port.port}${end}}`;
}

function ruleLines(rule: GeneratedRule, peerKey: 'from' | 'to', indent: string): string[] {
  const inner = `${indent}  `;
  const body = [`${inner}${peerKey}:`, ...rule.peers.flatMap((peer) => peerLines(peer, `${inner}  `))];
  if (rule.ports.length > 0) {
    body.push(`${inner}ports:`, ...rule.ports.map((port) => portLine(port, `${inner}  `)));
  }
  return [...rule.comments.flatMap((c) => comment(c, indent)), ...item(body, indent)];
}

/** A generated policy's comment, kind and metadata, up to `spec:`: the same in every flavor. */
export function policyHead(policy: GeneratedPolicy, apiVersion: string, kind: string): string[] {
  return [
    ...policy.comments.flatMap((c) => comment(c, '')),
    `apiVersion: ${apiVersion}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${scalar(policy.name)}`,
    `  namespace: ${scalar(policy.namespace)}`,
    '  labels:',
    '    app.kubernetes.io/managed-by: phiwall',
    'spec:',
  ];
}

export function renderPolicy(policy: GeneratedPolicy): string {
  const lines = [
    ...policyHead(policy, 'networking.k8s.io/v1', 'NetworkPolicy'),
    ...selectorLines('podSelector', policy.podSelector, '  '),
    `  policyTypes: [${policy.policyTypes.join(', ')}]`,
  ];
  if (policy.ingress.length > 0) {
    lines.push('  ingress:', ...policy.ingress.flatMap((rule) => ruleLines(rule, 'from', '    ')));
  }
  if (policy.egress.length > 0) {
    lines.push('  egress:', ...policy.egress.flatMap((rule) => ruleLines(rule, 'to', '    ')));
  }
  return `${lines.join('\n')}\n`;
}

/** Documents of one namespace, without a header: what the proof loads back. */
export function renderNamespaceBody(
  namespace: GeneratedNamespace,
  flavor: PolicyFlavor = 'kubernetes',
): string {
  const render =
    flavor === 'calico' ? renderCalicoPolicy : flavor === 'cilium' ? renderCiliumPolicy : renderPolicy;
  return namespace.policies.map((policy) => `---\n${render(policy)}`).join('');
}

/** Which kind the generated policies are written as. */
export type PolicyFlavor = 'kubernetes' | 'calico' | 'cilium';

export interface HeaderFacts {
  version: string;
  generatedAt: Date;
  flowFiles: readonly string[];
  includeDropped: boolean;
  keepExisting: boolean;
  proofSummary: string;
}

/** The comment at the top of a namespace's file: where it came from, what it replaces, the proof. */
export function namespaceHeader(
  namespace: GeneratedNamespace,
  facts: HeaderFacts,
  flavor: PolicyFlavor = 'kubernetes',
): string {
  const lines = [
    `${flavor === 'cilium' ? 'CiliumNetworkPolicies' : 'NetworkPolicies'} for namespace ${namespace.namespace}, generated by phiwall ${facts.version} on ${facts.generatedAt.toISOString()}`,
    `from the flows observed in ${facts.flowFiles.join(', ')} (${facts.includeDropped ? 'forwarded and dropped flows' : 'forwarded flows only; drops left out'}).`,
    'default-deny, cluster DNS, and per workload exactly its observed edges.',
  ];
  if (namespace.replaces.length > 0) {
    if (facts.keepExisting) {
      const names = new Set(namespace.policies.map((p) => p.name));
      const kept = namespace.replaces.filter((name) => !names.has(name));
      const overwritten = namespace.replaces.filter((name) => names.has(name));
      if (kept.length > 0) {
        lines.push(
          `Adds to the namespace's existing NetworkPolicies, which stay in force: ${kept.join(', ')}.`,
        );
      }
      if (overwritten.length > 0) {
        lines.push(`Replaces the existing NetworkPolicies of the same name: ${overwritten.join(', ')}.`);
      }
    } else {
      lines.push(
        `Replaces the namespace's existing NetworkPolicies: delete them when applying these, as the proof assumes:`,
        `  kubectl delete networkpolicy -n ${namespace.namespace} ${namespace.replaces.join(' ')}`,
      );
    }
  }
  if (namespace.replacesCilium && !facts.keepExisting) {
    lines.push(
      `Replaces the namespace's existing CiliumNetworkPolicies: delete them when applying these, as the proof assumes:`,
      `  kubectl delete ciliumnetworkpolicy -n ${namespace.namespace} ${namespace.replacesCilium.join(' ')}`,
    );
  }
  lines.push(...namespace.notes, facts.proofSummary);
  return `${lines.flatMap((line) => comment(line, '')).join('\n')}\n`;
}

export function renderNamespaceFile(
  namespace: GeneratedNamespace,
  facts: HeaderFacts,
  flavor: PolicyFlavor = 'kubernetes',
): string {
  return `${namespaceHeader(namespace, facts, flavor)}${renderNamespaceBody(namespace, flavor)}`;
}

/** `proof: 12 observed edges allowed; 3 connections into PHI, all observed`, or what failed. */
export function proofSummary(proof: Proof): string {
  if (proof.ok) {
    const phi =
      proof.phiWorkloads === 0
        ? 'no PHI workload in the input, so no PHI reachability to prove'
        : `${proof.phiConnections} connection(s) into ${proof.phiWorkloads} PHI workload(s), all observed`;
    const named = proof.allowedByName
      ? ` (${proof.allowedByName} by a toFQDNs name or entity, whose addresses phiwall cannot see offline)`
      : '';
    return `proof: ${proof.edges} observed edge(s) allowed${named}; ${phi}`;
  }
  const parts: string[] = [];
  if (proof.notAllowed.length > 0) parts.push(`${proof.notAllowed.length} observed edge(s) not allowed`);
  if (proof.unobserved.length > 0) parts.push(`${proof.unobserved.length} unobserved connection(s) into PHI`);
  return `proof FAILED: ${parts.join('; ')} (of ${proof.edges} observed edge(s) and ${proof.phiConnections} connection(s) into PHI)`;
}

function edgeText(edge: Proof['notAllowed'][number]['edge']): string {
  return `${peerLabel(edge.src)} -> ${peerLabel(edge.dst)} ${edge.protocol} ${edge.port}`;
}

export function renderProofText(generation: Generation, proof: Proof, files: readonly string[] = []): string {
  const policies = generation.namespaces.reduce((n, ns) => n + ns.policies.length, 0);
  const left: string[] = [];
  if (generation.leftOut.dropped > 0)
    left.push(`${generation.leftOut.dropped} dropped edge(s) left out (--include-dropped allows them)`);
  if (generation.leftOut.notGenerated > 0)
    left.push(`${generation.leftOut.notGenerated} edge(s) between namespaces left as they are`);
  if (generation.dnsEdges > 0) left.push(`${generation.dnsEdges} DNS edge(s) allowed by allow-dns`);
  const lines = [
    `generated ${policies} policies in ${generation.namespaces.length} namespace(s) from ${generation.edges.length} observed edge(s)${left.length > 0 ? ` (${left.join('; ')})` : ''}`,
  ];
  for (const file of files) lines.push(`  wrote ${file}`);
  if (generation.isolated.length > 0) {
    lines.push(
      `no observed traffic, isolated by default-deny (DNS aside): ${generation.isolated.join(', ')}`,
    );
  }
  lines.push(proofSummary(proof));
  if (proof.notAllowed.length > 0) {
    lines.push('  observed but not allowed:');
    for (const { edge, allowed } of proof.notAllowed) {
      lines.push(
        `    ${edgeText(edge)} (${edge.at.file}:${edge.at.line}; allowed: ${formatPorts(allowed) || 'nothing'})`,
      );
    }
  }
  if (proof.unobserved.length > 0) {
    lines.push('  into PHI but never observed:');
    for (const c of proof.unobserved) lines.push(`    ${c.src} -> ${c.dst} ${formatPorts(c.ports)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function proofJson(generation: Generation, proof: Proof, files: readonly string[] = []): unknown {
  return {
    policies: generation.namespaces.flatMap((ns) =>
      ns.policies.map((p) => ({ namespace: ns.namespace, name: p.name, role: p.role, workload: p.workload })),
    ),
    files,
    edges: generation.edges.length,
    leftOut: generation.leftOut,
    dnsEdges: generation.dnsEdges,
    isolated: generation.isolated,
    replaces: Object.fromEntries(
      generation.namespaces.filter((ns) => ns.replaces.length > 0).map((ns) => [ns.namespace, ns.replaces]),
    ),
    warnings: generation.warnings,
    proof: {
      ok: proof.ok,
      summary: proofSummary(proof),
      edgesAllowed: proof.edges - proof.notAllowed.length,
      edgesAllowedByName: proof.allowedByName ?? 0,
      notAllowed: proof.notAllowed.map(({ edge, allowed }) => ({
        src: peerLabel(edge.src),
        dst: peerLabel(edge.dst),
        protocol: edge.protocol,
        port: edge.port,
        at: edge.at,
        allowed: formatPorts(allowed) || 'nothing',
      })),
      phiConnections: proof.phiConnections,
      unobserved: proof.unobserved.map((c) => ({ src: c.src, dst: c.dst, ports: formatPorts(c.ports) })),
    },
  };
}
