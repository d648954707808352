/**
 * The graph `phiwall serve` draws (`GET /api/graph`, docs/serve-api.md): workloads, external address
 * blocks and entry points (Ingresses, NodePort and LoadBalancer Services) as nodes, allowed
 * connections as edges. Pure: everything it needs is passed in.
 */
import { connectionChanges } from '../analysis/connection-changes.ts';
import type { Connection, ConnectionPeer } from '../analysis/connectivity.ts';
import { type ComparedEdge, toConnectionPeer } from '../analysis/flow-comparison.ts';
import { l7Text } from '../analysis/l7.ts';
import type { AuditConfig } from '../compliance/config.ts';
import { matchingLabel, phiScope } from '../compliance/phi-scope.ts';
import type { Finding } from '../compliance/types.ts';
import { formatPorts, NO_PORTS, type PortSet, portSetOf, unionPorts } from '../engine/ports.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import {
  type KeptObject,
  type Labels,
  PROTOCOLS,
  type Protocol,
  type Snapshot,
  type Workload,
} from '../model/types.ts';
import type {
  Enforcement,
  Exposure,
  ExternalNode,
  Graph,
  GraphEdge,
  GraphNode,
  GraphSource,
  GraphStatus,
  WorkloadNode,
} from './api-types.ts';

/** A way in from outside the cluster: an Ingress, or a NodePort or LoadBalancer Service. */
export interface EntryPoint {
  id: string;
  kind: 'Ingress' | 'Service';
  namespace: string;
  name: string;
  /** Workload ids it sends traffic to, with the ports it sends it on. */
  targets: Map<string, PortSet>;
}

export interface GraphInput {
  snapshot: Snapshot;
  connections: readonly Connection[];
  config: AuditConfig;
  findings: readonly Finding[];
  generation: number;
  source: GraphSource;
  /** With flow logs: the observed edges, compared with policy (their enforcement gaps are counted). */
  observed?: readonly ComparedEdge[];
}

export function nodeIdOf(peer: ConnectionPeer): string {
  return 'workload' in peer ? peer.workload : `external:${peer.external.join(',')}`;
}

export function edgeId(source: string, target: string): string {
  return `${source}->${target}`;
}

/** Findings that count against a workload on the map: failing or needing review, and not accepted. */
export function isOpen(finding: Finding): boolean {
  return (finding.status === 'fail' || finding.status === 'needs-review') && !finding.accepted;
}

/** Comparison key of a finding: the same check about the same objects with the same outcome. */
function findingKey(f: Finding): string {
  return `${f.check}\0${f.status}\0${[...f.objects].sort().join('\0')}`;
}

/** Open findings of `after` that `before` does not have. */
export function findingsOnlyIn(after: readonly Finding[], before: readonly Finding[]): Finding[] {
  const known = new Set(before.filter(isOpen).map(findingKey));
  return after.filter((f) => isOpen(f) && !known.has(findingKey(f)));
}

/** The external address nodes a connection's ends need. */
export function externalNodesOf(c: Connection): ExternalNode[] {
  return [c.src, c.dst].flatMap((peer) =>
    'external' in peer
      ? [
          {
            id: nodeIdOf(peer),
            type: 'external' as const,
            label: peer.external.join(', '),
            cidrs: [...peer.external],
          },
        ]
      : [],
  );
}

/** A connection as a graph edge. */
export function connectionEdge(c: Connection, isPhi: (workload: string) => boolean): GraphEdge {
  const source = nodeIdOf(c.src);
  const target = nodeIdOf(c.dst);
  return {
    id: edgeId(source, target),
    source,
    target,
    ports: formatPorts(c.ports),
    protocols: protocolsOf(c.ports),
    phi: [c.src, c.dst].some((p) => 'workload' in p && isPhi(p.workload)),
    dependsOn: [...c.dependsOn],
    ...(c.l7Filtered ? { l7Filtered: l7Text(c.l7Filtered) } : {}),
  };
}

export function buildGraph(input: GraphInput): Graph {
  const { snapshot, connections, config, findings } = input;
  const scope = phiScope(snapshot, config);
  const isPhi = (id: string) => scope.phi.has(id);
  const entries = entryPoints(snapshot);

  const exposed = new Set<string>();
  for (const c of connections) if ('external' in c.src && 'workload' in c.dst) exposed.add(c.dst.workload);
  for (const entry of entries) for (const id of entry.targets.keys()) exposed.add(id);

  const openFindings = new Map<string, number>();
  for (const finding of findings) {
    if (!isOpen(finding)) continue;
    for (const object of new Set(finding.objects))
      openFindings.set(object, (openFindings.get(object) ?? 0) + 1);
  }

  const nodes: GraphNode[] = snapshot.workloads.map(
    (w): WorkloadNode => ({
      id: w.id,
      type: 'workload',
      namespace: w.namespace,
      name: w.name,
      kind: w.kind,
      phi: isPhi(w.id),
      exposed: exposed.has(w.id),
      hostNetwork: w.pods.some((p) => p.hostNetwork),
      labels: labelsOf(w),
      findings: openFindings.get(w.id) ?? 0,
    }),
  );
  const externals = new Map<string, ExternalNode>();
  const edges: GraphEdge[] = [];
  for (const c of connections) {
    for (const node of externalNodesOf(c)) if (!externals.has(node.id)) externals.set(node.id, node);
    edges.push(connectionEdge(c, isPhi));
  }
  nodes.push(...[...externals.values()].sort((a, b) => a.id.localeCompare(b.id)));
  for (const entry of entries) {
    nodes.push({
      id: entry.id,
      type: 'entry',
      label: `${entry.kind} ${entry.namespace}/${entry.name}`,
      kind: entry.kind,
      namespace: entry.namespace,
      name: entry.name,
      targets: [...entry.targets.keys()],
    });
    for (const [target, ports] of entry.targets) {
      edges.push({
        id: edgeId(entry.id, target),
        source: entry.id,
        target,
        ports: formatPorts(ports),
        protocols: protocolsOf(ports),
        phi: isPhi(target),
        dependsOn: [],
      });
    }
  }

  const namespaces = [...snapshot.namespaces.values()]
    .map((ns) => ({
      name: ns.name,
      phi: matchingLabel(ns.labels, config.phi.selectors) !== undefined,
      labels: { ...ns.labels },
    }))
    .sort((a, b) => a.name.localeCompare(b.name));

  return {
    generation: input.generation,
    source: input.source,
    namespaces,
    nodes,
    edges,
    exposure: exposureOf(nodes, edges, namespaces, input.observed ?? []),
    status: statusOf(snapshot, findings),
    summary: {
      workloads: snapshot.workloads.length,
      phi: scope.phi.size,
      edges: edges.length,
      failing: findings.filter((f) => f.status === 'fail' && !f.accepted).length,
      needsReview: findings.filter((f) => f.status === 'needs-review' && !f.accepted).length,
    },
  };
}

function exposureOf(
  nodes: readonly GraphNode[],
  edges: readonly GraphEdge[],
  namespaces: readonly { name: string; phi: boolean }[],
  observed: readonly ComparedEdge[],
): Exposure {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const phiNamespaces = new Set(namespaces.filter((ns) => ns.phi).map((ns) => ns.name));
  const internet: string[] = [];
  const fromNamespaces: string[] = [];
  const phiFromNonPhiNamespaces = new Set<string>();
  for (const edge of edges) {
    const source = byId.get(edge.source);
    const target = byId.get(edge.target);
    if (target?.type !== 'workload' || !target.phi) continue;
    if (source?.type === 'external' || source?.type === 'entry') internet.push(edge.id);
    else if (source?.type === 'workload' && !source.phi && !phiNamespaces.has(source.namespace)) {
      fromNamespaces.push(edge.id);
      phiFromNonPhiNamespaces.add(target.id);
    }
  }
  const gaps = observed
    .filter((edge) => edge.group === 'gap')
    .map((edge) => edgeId(nodeIdOf(toConnectionPeer(edge.src)), nodeIdOf(toConnectionPeer(edge.dst))));
  return {
    phiFromInternet: nodes.filter((n) => n.type === 'workload' && n.phi && n.exposed).map((n) => n.id),
    phiFromNonPhiNamespaces: [...phiFromNonPhiNamespaces].sort(),
    edges: { internet, namespaces: fromNamespaces },
    enforcementGaps: [...new Set(gaps)],
  };
}

const ENFORCEMENT: Record<Finding['status'], Enforcement> = {
  pass: 'enforcing',
  fail: 'not-enforcing',
  'needs-review': 'unknown',
  'not-assessable': 'not-assessable',
};

/** What the page must say about the graph: partial inputs, and whether policy is enforced at all. */
function statusOf(snapshot: Snapshot, findings: readonly Finding[]): GraphStatus {
  const plugin = findings.find((f) => f.check === 'HIPAA-NP-002');
  const status: GraphStatus = { enforcement: plugin ? ENFORCEMENT[plugin.status] : 'not-assessable' };
  if (snapshot.partial || snapshot.warnings.length > 0)
    status.partial = { reasons: snapshot.warnings.map(formatDiagnostic) };
  return status;
}

/** The labels a workload's pods carry (its first pod's: pods of a workload share a template). */
function labelsOf(workload: Workload): Labels {
  return { ...(workload.pods[0]?.labels ?? {}) };
}

function protocolsOf(ports: PortSet): Protocol[] {
  return PROTOCOLS.filter((p) => ports[p].length > 0);
}

/** Whether a workload is PHI in any of the graphs (an edge's PHI mark, for edges of neither graph). */
export function phiIn(...graphs: Graph[]): (workload: string) => boolean {
  const phi = new Set(
    graphs.flatMap((g) => g.nodes.filter((n) => n.type === 'workload' && n.phi).map((n) => n.id)),
  );
  return (workload) => phi.has(workload);
}

/** Whether an edge has an external address block at one end. */
export function isExternalEdge(edge: GraphEdge): boolean {
  return edge.source.startsWith('external:') || edge.target.startsWith('external:');
}

/**
 * What changed between two graphs, by edge id: edges added, removed, and with other ports. Edges to
 * external blocks are left out: blocks are cut differently whenever any rule's blocks change, so their
 * ids say nothing; `externalChanges` compares them address by address.
 */
export function edgeChanges(
  before: Graph,
  after: Graph,
): { added: string[]; removed: string[]; changed: string[] } {
  const old = new Map(before.edges.filter((e) => !isExternalEdge(e)).map((e) => [e.id, e]));
  const now = new Map(after.edges.filter((e) => !isExternalEdge(e)).map((e) => [e.id, e]));
  const added = [...now.keys()].filter((id) => !old.has(id));
  const removed = [...old.keys()].filter((id) => !now.has(id));
  const changed = [...now.values()]
    .filter((e) => {
      const was = old.get(e.id);
      return was !== undefined && (was.ports !== e.ports || was.phi !== e.phi);
    })
    .map((e) => e.id);
  return { added, removed, changed };
}

/**
 * The connections to and from external addresses that changed, address by address (see
 * analysis/connection-changes.ts), as edges: an end is the range over which the answer changed the same
 * way, which need not be a node of either graph (`nodes` are those ends).
 */
export function externalChanges(
  before: readonly Connection[],
  after: readonly Connection[],
  isPhi: (workload: string) => boolean,
): {
  added: GraphEdge[];
  removed: GraphEdge[];
  changed: { edge: GraphEdge; before: string; after: string }[];
  nodes: ExternalNode[];
} {
  const external = (c: Connection) => 'external' in c.src || 'external' in c.dst;
  const result = {
    added: [] as GraphEdge[],
    removed: [] as GraphEdge[],
    changed: [] as { edge: GraphEdge; before: string; after: string }[],
    nodes: [] as ExternalNode[],
  };
  for (const { was, now } of connectionChanges(before.filter(external), after.filter(external))) {
    const c = (now ?? was) as Connection;
    result.nodes.push(...externalNodesOf(c));
    if (!was) result.added.push(connectionEdge(c, isPhi));
    else if (!now) result.removed.push(connectionEdge(c, isPhi));
    else
      result.changed.push({
        edge: connectionEdge(c, isPhi),
        before: formatPorts(was.ports),
        after: formatPorts(now.ports),
      });
  }
  return result;
}

// ---- Entry points: Ingresses and NodePort / LoadBalancer Services, resolved to workloads ----

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

interface ServicePort {
  name?: string;
  port?: number;
  protocol: Protocol;
}

function servicePorts(service: KeptObject): ServicePort[] {
  return list(fields(service.object.spec)?.ports).flatMap((entry) => {
    const port = fields(entry);
    if (!port) return [];
    const protocol = (PROTOCOLS as readonly unknown[]).includes(port.protocol)
      ? (port.protocol as Protocol)
      : 'TCP';
    return [
      {
        name: typeof port.name === 'string' ? port.name : undefined,
        port: typeof port.port === 'number' ? port.port : undefined,
        protocol,
      },
    ];
  });
}

function portSetOfServicePorts(ports: readonly ServicePort[]): PortSet {
  let set = NO_PORTS;
  for (const p of ports)
    if (p.port !== undefined) set = unionPorts(set, portSetOf(p.protocol, [[p.port, p.port]]));
  return set;
}

/** The workloads a Service's selector picks, in its namespace. A Service without a selector picks none. */
export function serviceWorkloads(snapshot: Snapshot, service: KeptObject): Workload[] {
  const selector = fields(fields(service.object.spec)?.selector);
  const entries = Object.entries(selector ?? {}).filter(
    (e): e is [string, string] => typeof e[1] === 'string',
  );
  if (entries.length === 0) return [];
  return snapshot.workloads.filter(
    (w) =>
      w.namespace === service.namespace &&
      w.pods.some((pod) => entries.every(([key, value]) => pod.labels[key] === value)),
  );
}

function serviceType(service: KeptObject): string {
  const type = fields(service.object.spec)?.type;
  return typeof type === 'string' ? type : 'ClusterIP';
}

/** The backends an Ingress names, in networking.k8s.io/v1 and the older extensions shape. */
function ingressBackends(ingress: KeptObject): { service: string; port?: number | string }[] {
  const spec = fields(ingress.object.spec);
  const backends: unknown[] = [spec?.defaultBackend, spec?.backend];
  for (const rule of list(spec?.rules)) {
    for (const path of list(fields(fields(rule)?.http)?.paths)) backends.push(fields(path)?.backend);
  }
  return backends.flatMap((value) => {
    const backend = fields(value);
    if (!backend) return [];
    const v1 = fields(backend.service);
    if (v1 && typeof v1.name === 'string') {
      const port = fields(v1.port);
      const number = typeof port?.number === 'number' ? port.number : undefined;
      const name = typeof port?.name === 'string' ? port.name : undefined;
      return [{ service: v1.name, port: number ?? name }];
    }
    if (typeof backend.serviceName === 'string') {
      const port = backend.servicePort;
      return [
        {
          service: backend.serviceName,
          port: typeof port === 'number' || typeof port === 'string' ? port : undefined,
        },
      ];
    }
    return [];
  });
}

/**
 * Every way in from outside: one entry per Ingress (its backends' Services resolved to workloads by
 * selector) and per NodePort or LoadBalancer Service. Entries that reach no workload are kept.
 */
export function entryPoints(snapshot: Snapshot): EntryPoint[] {
  const entries: EntryPoint[] = [];
  const services = new Map(snapshot.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  for (const ingress of snapshot.ingresses) {
    const targets = new Map<string, PortSet>();
    for (const backend of ingressBackends(ingress)) {
      const service = services.get(`${ingress.namespace}/${backend.service}`);
      if (!service) continue;
      const all = servicePorts(service);
      const used =
        backend.port === undefined
          ? all
          : all.filter((p) => p.port === backend.port || p.name === backend.port);
      const ports = portSetOfServicePorts(used);
      for (const workload of serviceWorkloads(snapshot, service)) {
        targets.set(workload.id, unionPorts(targets.get(workload.id) ?? NO_PORTS, ports));
      }
    }
    entries.push({
      id: `entry:Ingress/${ingress.namespace}/${ingress.name}`,
      kind: 'Ingress',
      ...nameOf(ingress),
      targets,
    });
  }
  for (const service of snapshot.services) {
    const type = serviceType(service);
    if (type !== 'NodePort' && type !== 'LoadBalancer') continue;
    const ports = portSetOfServicePorts(servicePorts(service));
    const targets = new Map(serviceWorkloads(snapshot, service).map((w) => [w.id, ports]));
    entries.push({
      id: `entry:Service/${service.namespace}/${service.name}`,
      kind: 'Service',
      ...nameOf(service),
      targets,
    });
  }
  return entries;
}

function nameOf(object: KeptObject): { namespace: string; name: string } {
  return { namespace: object.namespace, name: object.name };
}

export type {
  EntryNode,
  ExternalNode,
  Graph,
  GraphEdge,
  GraphNamespace,
  GraphNode,
  GraphSource,
  WorkloadNode,
} from './api-types.ts';
