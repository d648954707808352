/**
 * Cytoscape elements from the API graph: filters, namespace-level aggregation for large clusters, and
 * the what-if and observed-flow overlays. Pure functions, so they are tested without a browser.
 *
 * Element ids: API ids for workloads, external blocks and entry points; `ns:NAME` for namespaces
 * (a compound node holding its workloads, or one collapsed node when aggregated); `agg:A->B` for an
 * edge standing for several; `flow:…` for observed flows.
 */
import type { ElementDefinition } from 'cytoscape';
import type { FlowPeer, FlowsReport, Graph, GraphEdge, GraphNode, WorkloadNode } from './types.ts';

/** Above this many workloads the graph opens at namespace level. */
export const AGGREGATE_ABOVE = 100;
/** When aggregated, more external blocks than this are drawn as one node. */
const MAX_EXTERNALS = 30;

export interface Filters {
  namespace: string;
  phiOnly: boolean;
  exposedOnly: boolean;
  /** `TCP`, `5432`, `TCP 5432`, `udp/53`; empty for none. */
  port: string;
  /** One of the exposure numbers, picked in the header: only these workloads (or edges) and their edges. */
  only?: { label: string; ids: readonly string[] };
}

export const NO_FILTERS: Filters = { namespace: '', phiOnly: false, exposedOnly: false, port: '' };

export interface WhatIfMarks {
  added: ReadonlySet<string>;
  removed: ReadonlySet<string>;
  changed: ReadonlySet<string>;
}

export interface ViewOptions {
  filters: Filters;
  /** Namespace-level aggregation; namespaces in `expanded` are still drawn with their workloads. */
  aggregate: boolean;
  expanded: ReadonlySet<string>;
  whatIf?: WhatIfMarks;
  flows?: FlowsReport;
}

export interface BuiltView {
  elements: ElementDefinition[];
  /** Workload nodes drawn, PHI workloads among them, edges drawn (aggregated edges count once). */
  counts: { workloads: number; phi: number; edges: number; namespaces: number; hidden: number };
  /** Where a node or edge of the API graph is drawn: itself, its collapsed namespace, a merged edge. */
  drawnNode: ReadonlyMap<string, string>;
  drawnEdge: ReadonlyMap<string, string>;
}

export const nsId = (namespace: string) => `ns:${namespace}`;

export function isWorkload(node: GraphNode): node is WorkloadNode {
  return node.type === 'workload';
}

/** The namespace an entry point lives in: that of its first target, else the one in its id. */
export function entryNamespace(node: GraphNode, byId: ReadonlyMap<string, GraphNode>): string | undefined {
  if (node.type === 'workload') return node.namespace;
  if (node.type !== 'entry') return undefined;
  if (node.namespace) return node.namespace;
  for (const target of node.targets) {
    const workload = byId.get(target);
    if (workload?.type === 'workload') return workload.namespace;
  }
  const match = /^entry:[^/]+\/([^/]+)\//.exec(node.id);
  return match?.[1];
}

// ---- ports -------------------------------------------------------------------------------------

export interface PortQuery {
  protocol?: string;
  port?: number;
}

export function parsePortQuery(text: string): PortQuery | undefined {
  const match = /^\s*(tcp|udp|sctp)?\s*[/: ]?\s*(\d{1,5})?\s*$/i.exec(text);
  if (!match || (!match[1] && !match[2])) return undefined;
  const query: PortQuery = {};
  if (match[1]) query.protocol = match[1].toUpperCase();
  if (match[2]) query.port = Number(match[2]);
  return query;
}

/** Whether an edge's port text (`all ports`, `TCP 53 UDP 53`, `TCP 1-52,54-65535`) covers the query. */
export function portsMatch(ports: string, protocols: readonly string[], query: PortQuery): boolean {
  if (/^all ports$/i.test(ports.trim())) return true;
  const tokens = ports.trim().split(/\s+/);
  let protocol: string | undefined;
  let any = false;
  for (const token of tokens) {
    if (/^(TCP|UDP|SCTP)$/i.test(token)) {
      protocol = token.toUpperCase();
      continue;
    }
    if (query.protocol && protocol !== query.protocol) continue;
    if (query.port === undefined) return true;
    for (const part of token.split(',')) {
      if (part === 'all') return true;
      const [lo, hi] = part.split('-').map(Number);
      if (lo === undefined || Number.isNaN(lo)) continue;
      if (query.port >= lo && query.port <= (hi ?? lo)) return true;
    }
    any = true;
  }
  if (!any && query.port === undefined && query.protocol) return protocols.includes(query.protocol);
  return false;
}

// ---- filters -----------------------------------------------------------------------------------

export type ExposureKey = 'internet' | 'namespaces' | 'gaps';

/**
 * What one exposure number counts, as ids to filter on: the PHI workloads and the edges the server
 * names as exposing them, or the ends of the observed enforcement gaps.
 */
export function exposureSelection(graph: Graph, key: ExposureKey): string[] {
  const { exposure } = graph;
  if (key === 'gaps') return [...new Set(exposure.enforcementGaps.flatMap((id) => id.split('->')))];
  if (key === 'internet') return [...exposure.phiFromInternet, ...exposure.edges.internet];
  return [...exposure.phiFromNonPhiNamespaces, ...exposure.edges.namespaces];
}

function filtersActive(filters: Filters): boolean {
  return Boolean(
    filters.namespace || filters.phiOnly || filters.exposedOnly || filters.port.trim() || filters.only,
  );
}

/** The nodes and edges the filters keep. */
export function applyFilters(graph: Graph, filters: Filters): { nodes: GraphNode[]; edges: GraphEdge[] } {
  if (!filtersActive(filters)) return { nodes: graph.nodes, edges: graph.edges };
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const query = filters.port.trim() ? parsePortQuery(filters.port) : undefined;
  const portFilter = Boolean(filters.port.trim());
  const inNamespace = (id: string) => {
    const node = byId.get(id);
    return node !== undefined && entryNamespace(node, byId) === filters.namespace;
  };
  const exposed = (id: string) => {
    const node = byId.get(id);
    return node?.type === 'workload' && node.exposed;
  };
  const only = filters.only ? new Set(filters.only.ids) : undefined;
  const edges = graph.edges.filter((edge) => {
    if (only && !only.has(edge.id)) return false;
    if (portFilter && (!query || !portsMatch(edge.ports, edge.protocols, query))) return false;
    if (filters.namespace && !inNamespace(edge.source) && !inNamespace(edge.target)) return false;
    if (filters.phiOnly && !edge.phi) return false;
    if (filters.exposedOnly && !exposed(edge.source) && !exposed(edge.target)) return false;
    return true;
  });
  const keep = new Set<string>();
  for (const edge of edges) {
    keep.add(edge.source);
    keep.add(edge.target);
  }
  if (!portFilter) {
    for (const node of graph.nodes) {
      if (node.type !== 'workload') continue;
      if (filters.namespace && node.namespace !== filters.namespace) continue;
      if (filters.phiOnly && !node.phi) continue;
      if (filters.exposedOnly && !node.exposed) continue;
      if (only && !only.has(node.id)) continue;
      keep.add(node.id);
    }
  }
  return { nodes: graph.nodes.filter((n) => keep.has(n.id)), edges };
}

// ---- elements ----------------------------------------------------------------------------------

function workloadLabel(node: WorkloadNode): string {
  // The badge on a line of its own: beside the name it ran out of the node.
  const mark = node.phi ? (node.exposed ? '⚠ EXPOSED PHI\n' : 'PHI · ') : '';
  return `${mark}${node.name}\n${node.kind}`;
}

function nodeClasses(node: GraphNode): string[] {
  if (node.type === 'workload') {
    const classes = ['workload'];
    if (node.phi) classes.push('phi');
    if (node.exposed) classes.push('exposed');
    if (node.phi && node.exposed) classes.push('phi-exposed');
    if (node.hostNetwork) classes.push('host-network');
    if (node.findings > 0) classes.push('has-findings');
    return classes;
  }
  return [node.type];
}

interface Bucket {
  source: string;
  target: string;
  edges: string[];
  phi: boolean;
  classes: Set<string>;
}

/**
 * Builds the elements to draw. With `aggregate`, every namespace not in `expanded` is one node and
 * the edges into and out of it are merged per pair of ends.
 */
export function buildView(graph: Graph, options: ViewOptions): BuiltView {
  const { nodes, edges } = applyFilters(graph, options.filters);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const phiNamespaces = new Set(graph.namespaces.filter((ns) => ns.phi).map((ns) => ns.name));
  const collapsed = (namespace: string) => options.aggregate && !options.expanded.has(namespace);
  const elements: ElementDefinition[] = [];

  // Namespaces in view, with what they hold.
  const nsStats = new Map<
    string,
    { workloads: number; phi: number; exposed: number; phiExposed: number; findings: number }
  >();
  for (const node of nodes) {
    const namespace = entryNamespace(node, byId);
    if (namespace === undefined) continue;
    let stats = nsStats.get(namespace);
    if (!stats) {
      stats = { workloads: 0, phi: 0, exposed: 0, phiExposed: 0, findings: 0 };
      nsStats.set(namespace, stats);
    }
    if (node.type === 'workload') {
      stats.workloads++;
      if (node.phi) stats.phi++;
      if (node.exposed) stats.exposed++;
      if (node.phi && node.exposed) stats.phiExposed++;
      stats.findings += node.findings;
    }
  }

  const externals = nodes.filter(
    (n) => n.type === 'external' || (n.type === 'entry' && !entryNamespace(n, byId)),
  );
  const mergeExternals = options.aggregate && externals.length > MAX_EXTERNALS;
  const rep = new Map<string, string>();
  for (const node of nodes) {
    const namespace = entryNamespace(node, byId);
    if (namespace !== undefined && collapsed(namespace)) rep.set(node.id, nsId(namespace));
    else if (namespace === undefined && mergeExternals) rep.set(node.id, 'external:*');
    else rep.set(node.id, node.id);
  }

  const counts = { workloads: 0, phi: 0, edges: 0, namespaces: nsStats.size, hidden: 0 };
  for (const [namespace, stats] of [...nsStats].sort(([a], [b]) => a.localeCompare(b))) {
    const classes = ['namespace'];
    if (phiNamespaces.has(namespace) || stats.phi > 0) classes.push('ns-phi');
    const isCollapsed = collapsed(namespace);
    if (isCollapsed) {
      classes.push('collapsed');
      if (stats.phi > 0) classes.push('phi');
      if (stats.exposed > 0) classes.push('exposed');
      if (stats.phiExposed > 0) classes.push('phi-exposed');
      counts.hidden += stats.workloads;
    }
    const exposedPhi = stats.phiExposed ? `\n⚠ ${stats.phiExposed} exposed PHI` : '';
    const label = isCollapsed
      ? `${namespace}\n${stats.workloads} workload${stats.workloads === 1 ? '' : 's'}${stats.phi ? ` · ${stats.phi} PHI` : ''}${exposedPhi}`
      : namespace;
    elements.push({
      group: 'nodes',
      data: { id: nsId(namespace), label, namespace, kind: 'namespace', workloads: stats.workloads },
      classes: classes.join(' '),
    });
  }
  for (const node of nodes) {
    if (rep.get(node.id) !== node.id) continue;
    const namespace = entryNamespace(node, byId);
    const data: Record<string, unknown> = {
      id: node.id,
      kind: node.type,
      label: node.type === 'workload' ? workloadLabel(node) : node.label,
    };
    if (namespace !== undefined) data.parent = nsId(namespace);
    if (node.type === 'workload') {
      counts.workloads++;
      if (node.phi) counts.phi++;
    }
    elements.push({ group: 'nodes', data, classes: nodeClasses(node).join(' ') });
  }
  if (mergeExternals) {
    elements.push({
      group: 'nodes',
      data: { id: 'external:*', kind: 'external', label: `${externals.length} external blocks` },
      classes: 'external merged',
    });
  }

  // Edges: kept as they are between drawn nodes, merged per pair of ends otherwise.
  const marks = options.whatIf;
  const intoPhiFromOutside = new Set(graph.exposure.edges.internet);
  const edgeClasses = (edge: GraphEdge) => {
    const classes: string[] = [];
    if (edge.phi) classes.push('phi');
    const from = byId.get(edge.source)?.type;
    if (from === 'entry') classes.push('entry-edge');
    // From outside the cluster into PHI: drawn apart from PHI edges inside it.
    if (intoPhiFromOutside.has(edge.id)) classes.push('internet-phi');
    if (marks?.added.has(edge.id)) classes.push('wi-added');
    if (marks?.removed.has(edge.id)) classes.push('wi-removed');
    if (marks?.changed.has(edge.id)) classes.push('wi-changed');
    return classes;
  };
  const buckets = new Map<string, Bucket>();
  const drawnEdge = new Map<string, string>();
  for (const edge of edges) {
    const source = rep.get(edge.source);
    const target = rep.get(edge.target);
    if (!source || !target) continue;
    if (source === edge.source && target === edge.target) {
      elements.push({
        group: 'edges',
        data: { id: edge.id, source, target, ports: edge.ports, label: edge.ports, kind: 'edge' },
        classes: edgeClasses(edge).join(' '),
      });
      drawnEdge.set(edge.id, edge.id);
      counts.edges++;
      continue;
    }
    if (source === target) continue;
    const key = `agg:${source}->${target}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { source, target, edges: [], phi: false, classes: new Set() };
      buckets.set(key, bucket);
    }
    bucket.edges.push(edge.id);
    drawnEdge.set(edge.id, key);
    bucket.phi ||= edge.phi;
    for (const c of edgeClasses(edge)) bucket.classes.add(c);
  }
  for (const [id, bucket] of buckets) {
    const n = bucket.edges.length;
    const label = `${n} connection${n === 1 ? '' : 's'}`;
    elements.push({
      group: 'edges',
      data: {
        id,
        source: bucket.source,
        target: bucket.target,
        ports: label,
        label,
        kind: 'agg',
        edges: bucket.edges,
      },
      classes: ['agg', ...bucket.classes].join(' '),
    });
    counts.edges++;
  }

  if (options.flows) elements.push(...flowElements(options.flows, graph, rep));
  return { elements, counts, drawnNode: rep, drawnEdge };
}

// ---- observed flows ----------------------------------------------------------------------------

const FLOW_GROUPS = [
  ['gap', 'flow-gap', 'forwarded, policy denies'],
  ['needed', 'flow-needed', 'dropped, policy denies'],
  ['droppedAllowed', 'flow-dropped-allowed', 'dropped, policy allows'],
  ['used', 'flow-used', 'forwarded, policy allows'],
] as const;

export const FLOW_LEGEND = FLOW_GROUPS.map(([group, cls, text]) => ({ group, cls, text }));

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!/^\d{1,3}$/.test(part) || n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const address = ipv4(ip);
  const network = base === undefined ? undefined : ipv4(base);
  if (address === undefined || network === undefined) return false;
  const prefix = Number(bits ?? 32);
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor(network / size);
}

/** The node a flow end is drawn at: its workload, the external block holding its address, or itself. */
function flowEnd(peer: FlowPeer, graph: Graph, extra: Map<string, ElementDefinition>): string {
  if ('workload' in peer) return peer.workload;
  const cidrs = 'ip' in peer ? undefined : peer.external;
  if (cidrs) {
    const id = `external:${cidrs.join(',')}`;
    if (graph.nodes.some((n) => n.id === id)) return id;
  }
  const ip = 'ip' in peer ? peer.ip : (cidrs?.[0] ?? '?');
  const holder = graph.nodes
    .filter((n) => n.type === 'external' && n.cidrs.some((c) => cidrContains(c, ip)))
    .sort((a, b) => (a.type === 'external' && b.type === 'external' ? b.cidrs.length - a.cidrs.length : 0))
    .at(-1);
  if (holder) return holder.id;
  const id = `flow-ip:${ip}`;
  if (!extra.has(id)) {
    extra.set(id, {
      group: 'nodes',
      data: { id, kind: 'external', label: ip },
      classes: 'external observed',
    });
  }
  return id;
}

function flowElements(
  flows: FlowsReport,
  graph: Graph,
  rep: ReadonlyMap<string, string>,
): ElementDefinition[] {
  const extra = new Map<string, ElementDefinition>();
  const merged = new Map<
    string,
    { source: string; target: string; cls: string; ports: Set<string>; count: number }
  >();
  for (const [group, cls] of FLOW_GROUPS) {
    for (const flow of flows[group] ?? []) {
      const from = flowEnd(flow.src, graph, extra);
      const to = flowEnd(flow.dst, graph, extra);
      const source = rep.get(from) ?? (extra.has(from) ? from : undefined);
      const target = rep.get(to) ?? (extra.has(to) ? to : undefined);
      if (!source || !target || source === target) continue;
      const id = `flow:${group}:${source}->${target}`;
      let entry = merged.get(id);
      if (!entry) {
        entry = { source, target, cls, ports: new Set(), count: 0 };
        merged.set(id, entry);
      }
      entry.ports.add(`${flow.protocol} ${flow.port}`);
      entry.count += flow.count;
    }
  }
  const elements: ElementDefinition[] = [...extra.values()];
  for (const [id, e] of merged) {
    const label = `${e.cls === 'flow-gap' ? '⚠ gap · ' : ''}observed ${[...e.ports].join(', ')} (${e.count})`;
    elements.push({
      group: 'edges',
      data: { id, source: e.source, target: e.target, ports: label, label, kind: 'flow' },
      classes: `flow ${e.cls}`,
    });
  }
  return elements;
}

// ---- findings ----------------------------------------------------------------------------------

/**
 * The graph elements a finding is about: its objects (workloads, namespaces, `ns/name` Services or
 * policies are matched to the workloads and namespaces they name) and the edges of its evidence
 * (`SRC -> DST ports`, where an external end is its comma-joined blocks).
 */
export function findingTargets(
  finding: { objects: readonly string[]; evidence: { edges?: readonly string[] } },
  graph: Graph,
): { nodes: string[]; edges: string[] } {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const namespaces = new Set(graph.namespaces.map((n) => n.name));
  for (const node of graph.nodes) if (node.type === 'workload') namespaces.add(node.namespace);
  const nodes = new Set<string>();
  const resolve = (text: string): string | undefined => {
    if (ids.has(text)) return text;
    if (ids.has(`external:${text}`)) return `external:${text}`;
    const external = graph.nodes.find((n) => n.type === 'external' && n.cidrs.join(',') === text);
    return external?.id;
  };
  for (const object of finding.objects) {
    const id = resolve(object);
    if (id) nodes.add(id);
    else if (namespaces.has(object)) nodes.add(nsId(object));
  }
  const edgeIndex = new Map(graph.edges.map((e) => [`${e.source}\u0000${e.target}`, e.id]));
  const edges = new Set<string>();
  for (const text of finding.evidence.edges ?? []) {
    const arrow = text.indexOf(' -> ');
    if (arrow < 0) continue;
    const source = resolve(text.slice(0, arrow));
    const rest = text.slice(arrow + 4);
    const space = rest.indexOf(' ');
    const target = resolve(space < 0 ? rest : rest.slice(0, space));
    if (!source || !target) continue;
    const id = edgeIndex.get(`${source}\u0000${target}`);
    if (id) edges.add(id);
    nodes.add(source);
    nodes.add(target);
  }
  return { nodes: [...nodes], edges: [...edges] };
}

/** Nodes whose name, id, kind or labels contain the query (case-insensitive). */
export function searchNodes(graph: Graph, query: string, limit = 50): GraphNode[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits: GraphNode[] = [];
  for (const node of graph.nodes) {
    const texts =
      node.type === 'workload'
        ? [node.id, ...Object.entries(node.labels).map(([k, v]) => `${k}=${v}`)]
        : [node.id, node.label];
    if (texts.some((t) => t.toLowerCase().includes(q))) hits.push(node);
    if (hits.length >= limit) break;
  }
  return hits;
}
