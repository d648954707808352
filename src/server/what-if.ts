/**
 * `POST /api/what-if`: the input with some objects added, replaced or deleted, analysed beside the
 * real one. Nothing is applied anywhere.
 */

import { computeConnectivity } from '../analysis/connectivity.ts';
import { runAudit } from '../compliance/audit.ts';
import type { Finding } from '../compliance/types.ts';
import { Engine } from '../engine/engine.ts';
import { type Diagnostic, InputError } from '../load/diagnostics.ts';
import { buildSnapshot, implyNamespaces } from '../load/snapshot.ts';
import type { Namespace, Snapshot } from '../model/types.ts';
import type { Analysis, Checkpoint } from './analysis.ts';
import type { WhatIfResult as ApiWhatIfResult } from './api-types.ts';
import { buildGraph, edgeChanges, externalChanges, findingsOnlyIn, type GraphEdge, phiIn } from './graph.ts';

/** The name the what-if text has in positioned messages. */
export const WHAT_IF_FILE = 'what-if.yaml';

export interface ObjectKey {
  kind: string;
  namespace?: string;
  name: string;
}

export interface WhatIfRequest {
  yaml: string;
  delete: ObjectKey[];
}

export type WhatIfResult = ApiWhatIfResult<Finding>;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
]);

function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${CLUSTER_SCOPED.has(kind) ? '' : (namespace ?? '')}/${name}`;
}

function requestError(message: string): InputError {
  return new InputError([{ severity: 'error', file: 'request', message }]);
}

/** Validates a request body; throws InputError naming what is wrong with it. */
export function parseWhatIfRequest(body: unknown): WhatIfRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw requestError('the body must be a JSON object: { "yaml": "...", "delete": [...] }');
  const { yaml = '', delete: deletes = [] } = body as Record<string, unknown>;
  if (typeof yaml !== 'string') throw requestError('"yaml" must be a string');
  if (!Array.isArray(deletes)) throw requestError('"delete" must be a list of { kind, namespace, name }');
  const keys = deletes.map((entry, i): ObjectKey => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof e.kind !== 'string' || e.kind === '' || typeof e.name !== 'string' || e.name === '')
      throw requestError(`delete[${i}]: needs a kind and a name`);
    if (e.namespace !== undefined && typeof e.namespace !== 'string')
      throw requestError(`delete[${i}].namespace: must be a string`);
    return { kind: e.kind, namespace: e.namespace as string | undefined, name: e.name };
  });
  return { yaml, delete: keys };
}

/**
 * `base` with the objects of `overlay` added or replacing the base's object of the same kind,
 * namespace and name, and the `deletes` removed. Throws InputError for a delete that names nothing.
 */
export function overlaySnapshot(
  base: Snapshot,
  overlay: Snapshot,
  deletes: readonly ObjectKey[],
  defaultNamespace = 'default',
): Snapshot {
  const removed = new Set(deletes.map((d) => keyOf(d.kind, d.namespace ?? defaultNamespace, d.name)));
  const found = new Set<string>();
  const keep = (key: string, replaced: ReadonlySet<string>) => {
    if (removed.has(key)) {
      found.add(key);
      return false;
    }
    return !replaced.has(key);
  };
  const merge = <T>(baseItems: readonly T[], overlayItems: readonly T[], key: (item: T) => string): T[] => {
    const replaced = new Set(overlayItems.map(key));
    return [...baseItems.filter((item) => keep(key(item), replaced)), ...overlayItems];
  };

  const policies = merge(base.policies, overlay.policies, (p) => keyOf('NetworkPolicy', p.namespace, p.name));
  const clusterPolicies = merge(base.clusterPolicies, overlay.clusterPolicies, (p) =>
    keyOf(p.kind, '', p.name),
  );
  const ciliumPolicies = merge(base.ciliumPolicies, overlay.ciliumPolicies, (p) =>
    keyOf(p.kind, p.namespace, p.name),
  );
  const ciliumCidrGroups = merge(base.ciliumCidrGroups, overlay.ciliumCidrGroups, (g) =>
    keyOf('CiliumCIDRGroup', '', g.name),
  );
  const nodes = merge(base.nodes, overlay.nodes, (n) => keyOf('Node', '', n.name));
  const services = merge(base.services, overlay.services, (s) => keyOf(s.kind, s.namespace, s.name));
  const ingresses = merge(base.ingresses, overlay.ingresses, (s) => keyOf(s.kind, s.namespace, s.name));
  const workloads = merge(base.workloads, overlay.workloads, (w) => keyOf(w.kind, w.namespace, w.name));
  const kept = new Set(workloads.map((w) => w.id));
  const pods = [...base.pods, ...overlay.pods].filter((p) => kept.has(p.workload));
  const declaredOverlay = [...overlay.namespaces.values()].filter((ns) => ns.declared);
  const namespaceList = merge([...base.namespaces.values()], declaredOverlay, (ns) =>
    keyOf('Namespace', '', ns.name),
  );

  const missing = deletes.filter((d) => !found.has(keyOf(d.kind, d.namespace ?? defaultNamespace, d.name)));
  if (missing.length > 0) {
    throw new InputError(
      missing.map(
        (d): Diagnostic => ({
          severity: 'error',
          file: 'request',
          message: `delete: the input has no ${d.kind} "${CLUSTER_SCOPED.has(d.kind) ? d.name : `${d.namespace ?? defaultNamespace}/${d.name}`}"`,
        }),
      ),
    );
  }

  const namespaces = new Map<string, Namespace>(namespaceList.map((ns) => [ns.name, ns]));
  // Objects in a namespace the input does not declare (or no longer does) imply it, as the loader does.
  implyNamespaces(namespaces, [...pods, ...policies, ...services, ...ingresses]);
  return {
    namespaces,
    workloads,
    pods,
    policies,
    clusterPolicies,
    ciliumPolicies,
    ciliumCidrGroups,
    nodes,
    services,
    ingresses,
    get inputs() {
      return [...base.inputs, ...overlay.inputs];
    },
    warnings: [...base.warnings, ...overlay.warnings],
    skippedKinds: base.skippedKinds,
    partial: base.partial || overlay.partial,
  };
}

/**
 * Answers a what-if against the analysis's current generation; throws InputError for a bad request, and
 * what `checkpoint` throws between the long steps.
 */
export function whatIf(analysis: Analysis, request: WhatIfRequest, checkpoint: Checkpoint): WhatIfResult {
  const view = analysis.view;
  const { config, engineOptions, namespace } = analysis.options;
  const overlay = request.yaml.trim()
    ? buildSnapshot([{ path: WHAT_IF_FILE, text: request.yaml }], { namespace })
    : buildSnapshot([], { namespace });
  const snapshot = overlaySnapshot(view.snapshot, overlay, request.delete, namespace);
  checkpoint();
  const engine = new Engine(snapshot, engineOptions);
  checkpoint();
  const connections = computeConnectivity(engine);
  checkpoint();
  const before = analysis.auditWithoutFlows();
  const after = runAudit(engine, config, { connections });
  checkpoint();
  const graph = buildGraph({
    snapshot,
    connections,
    config,
    findings: after.findings,
    generation: view.generation,
    source: { kind: 'what-if', label: `${view.graph.source.label} + what-if` },
  });
  const changes = edgeChanges(view.graph, graph);
  const external = externalChanges(view.connections, connections, phiIn(view.graph, graph));
  const oldEdges = new Map(view.graph.edges.map((e) => [e.id, e]));
  const newEdges = new Map(graph.edges.map((e) => [e.id, e]));
  // The UI draws what-if edges over the base graph: the address ranges that changed need nodes of their own.
  const known = new Set(graph.nodes.map((n) => n.id));
  for (const node of external.nodes) {
    if (known.has(node.id)) continue;
    known.add(node.id);
    graph.nodes.push(node);
  }
  return {
    added: [...changes.added.map((id) => newEdges.get(id) as GraphEdge), ...external.added],
    removed: [...changes.removed.map((id) => oldEdges.get(id) as GraphEdge), ...external.removed],
    changed: [
      ...changes.changed.map((id) => {
        const edge = newEdges.get(id) as GraphEdge;
        return { edge, before: (oldEdges.get(id) as GraphEdge).ports, after: edge.ports };
      }),
      ...external.changed,
    ],
    newFindings: findingsOnlyIn(after.findings, before.findings),
    resolvedFindings: findingsOnlyIn(before.findings, after.findings),
    graph,
  };
}
