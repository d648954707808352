/** Answers of the API that read one workload or one connection of the current view. */
import { explainConnection, type PortQuery } from '../analysis/explain.ts';
import { explainNamedConnection, isNamedPeerText } from '../analysis/explain-named.ts';
import { type Resolved, ResolveError, resolveEndpoint } from '../analysis/resolve.ts';
import type { Finding } from '../compliance/types.ts';
import { selectorMatches } from '../engine/selectors.ts';
import { type Direction, PROTOCOLS, type Protocol, type Snapshot, type Workload } from '../model/types.ts';
import { sortFindings } from '../report/audit.ts';
import { explanationJson, renderExplanationText, where } from '../report/explain.ts';
import { namedExplanationJson, renderNamedExplanationText } from '../report/explain-named.ts';
import type { PodGroup } from './api-types.ts';
import { podGroups } from './pod-groups.ts';
import type { View } from './state.ts';

export interface SelectingPolicy {
  kind: string;
  name: string;
  namespace?: string;
  directions: Direction[];
  at: string;
}

export interface WorkloadDetails {
  id: string;
  namespace: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  phi: boolean;
  phiReason?: string;
  policies: SelectingPolicy[];
  findings: Finding[];
  /** Present when the workload's pods are not all treated alike: one group per pod class. */
  podGroups?: PodGroup[];
}

/** A question the API cannot answer as asked: 400 with this message. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

/** The NetworkPolicies and cluster policies whose subject includes a pod of the workload. */
export function policiesSelecting(snapshot: Snapshot, workload: Workload): SelectingPolicy[] {
  const policies: SelectingPolicy[] = [];
  for (const policy of snapshot.policies) {
    if (policy.namespace !== workload.namespace) continue;
    if (!workload.pods.some((pod) => selectorMatches(policy.podSelector, pod.labels))) continue;
    const directions = (['ingress', 'egress'] as const).filter((d) => policy.isolates[d]);
    policies.push({
      kind: 'NetworkPolicy',
      name: policy.name,
      namespace: policy.namespace,
      directions,
      at: where(policy.provenance),
    });
  }
  const namespaceLabels = snapshot.namespaces.get(workload.namespace)?.labels ?? {};
  for (const policy of snapshot.clusterPolicies) {
    const { namespaceSelector, podSelector } = policy.subject;
    if (!selectorMatches(namespaceSelector, namespaceLabels)) continue;
    if (podSelector && !workload.pods.some((pod) => selectorMatches(podSelector, pod.labels))) continue;
    const directions = (['ingress', 'egress'] as const).filter((d) => policy[d].length > 0);
    policies.push({ kind: policy.kind, name: policy.name, directions, at: where(policy.provenance) });
  }
  return policies;
}

/** `GET /api/workloads/:id`; undefined for an unknown id. */
export function workloadDetails(view: View, id: string): WorkloadDetails | undefined {
  const workload = view.snapshot.workloads.find((w) => w.id === id);
  if (!workload) return undefined;
  const phiReason = view.audit.phi.find((p) => p.workload === id)?.reason;
  const groups = podGroups(view, workload);
  return {
    id,
    namespace: workload.namespace,
    name: workload.name,
    kind: workload.kind,
    labels: { ...(workload.pods[0]?.labels ?? {}) },
    annotations: { ...(workload.pods[0]?.annotations ?? {}) },
    phi: phiReason !== undefined,
    ...(phiReason !== undefined ? { phiReason } : {}),
    policies: policiesSelecting(view.snapshot, workload),
    findings: sortFindings(view.audit.findings.filter((f) => f.objects.includes(id))),
    ...(groups ? { podGroups: groups } : {}),
  };
}

/**
 * An end of an explained connection: a workload id, an IP address, or an external node of the graph
 * (`external:CIDR,...`, read as the first address of its first block: any address in a block gets the
 * same answer).
 */
function resolveEnd(snapshot: Snapshot, text: string): Resolved {
  if (text.startsWith('external:')) {
    const address = text.slice('external:'.length).split(',')[0]?.split('/')[0] ?? '';
    return resolveEndpoint(snapshot, address);
  }
  if (text.startsWith('entry:'))
    throw new BadRequest(`"${text}" is an entry point, not an endpoint: explain its target workload instead`);
  return resolveEndpoint(snapshot, text);
}

/** `GET /api/explain`: what `phiwall explain` prints, and its `--format json`. */
export function explain(
  view: View,
  params: { from?: string; to?: string; port?: string; protocol?: string },
): { text: string; json: unknown } {
  if (!params.from || !params.to)
    throw new BadRequest('explain needs from and to (workload ids or IP addresses)');
  let port: number | undefined;
  if (params.port !== undefined && params.port !== '') {
    port = /^\d{1,5}$/.test(params.port) ? Number(params.port) : Number.NaN;
    if (!(port >= 1 && port <= 65535))
      throw new BadRequest(`"${params.port}" is not a port between 1 and 65535`);
  }
  let protocol: Protocol | undefined;
  if (params.protocol !== undefined && params.protocol !== '') {
    const upper = params.protocol.toUpperCase();
    if (!(PROTOCOLS as readonly string[]).includes(upper))
      throw new BadRequest(`"${params.protocol}" is not a protocol: use ${PROTOCOLS.join(', ')}`);
    protocol = upper as Protocol;
  }
  const query: PortQuery | undefined =
    port !== undefined || protocol !== undefined ? { protocol: protocol ?? 'TCP', port } : undefined;
  // A peer known by name only (Cilium's toFQDNs) is the graph's `external:fqdn:<pattern>`: answered
  // as `phiwall explain FROM fqdn:<pattern>` answers it.
  const name = params.to.startsWith('external:') ? params.to.slice('external:'.length) : params.to;
  try {
    const from = resolveEnd(view.snapshot, params.from);
    if (isNamedPeerText(name)) {
      const named = explainNamedConnection(view.engine, from, name, query);
      return { text: renderNamedExplanationText(named), json: namedExplanationJson(named) };
    }
    const explanation = explainConnection(view.engine, from, resolveEnd(view.snapshot, params.to), query);
    return { text: renderExplanationText(explanation), json: explanationJson(explanation) };
  } catch (error) {
    if (error instanceof ResolveError) throw new BadRequest(error.message);
    throw error;
  }
}
