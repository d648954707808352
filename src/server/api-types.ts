/**
 * The shapes of the graph the `phiwall serve` API sends (docs/serve-api.md), shared by the server and
 * the UI (web/), so this module imports nothing: the UI type-checks it without Node's types.
 */

export type Labels = Record<string, string>;

export interface GraphSource {
  kind: 'files' | 'live' | 'what-if';
  label: string;
}

export interface GraphNamespace {
  name: string;
  phi: boolean;
  labels: Labels;
}

export interface WorkloadNode {
  id: string;
  type: 'workload';
  namespace: string;
  name: string;
  kind: string;
  phi: boolean;
  exposed: boolean;
  hostNetwork: boolean;
  labels: Labels;
  /** Failing or needs-review findings, not accepted, that name the workload. */
  findings: number;
}

export interface ExternalNode {
  id: string;
  type: 'external';
  label: string;
  cidrs: string[];
}

export interface EntryNode {
  id: string;
  type: 'entry';
  label: string;
  kind: 'Ingress' | 'Service';
  namespace: string;
  name: string;
  targets: string[];
}

export type GraphNode = WorkloadNode | ExternalNode | EntryNode;

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  ports: string;
  protocols: ('TCP' | 'UDP' | 'SCTP')[];
  phi: boolean;
  dependsOn: string[];
  /** Ports allowed by rules with L7 rules, whose requests a proxy filters: `L7-filtered (http) on TCP 8080 by …`. */
  l7Filtered?: string;
}

/** Whether the network plugin enforces NetworkPolicy, as HIPAA-NP-002 judged it. */
export type Enforcement = 'enforcing' | 'not-enforcing' | 'unknown' | 'not-assessable';

/** How far the graph can be trusted: a page must say so when it is stale or partial. */
export interface GraphStatus {
  /** The newest input could not be loaded: the graph is the last good state, from `since`. */
  stale?: { since: string; message: string; errors: string[] };
  /** Objects were left out (`--skip-invalid`, kinds phiwall does not model): what, one line each. */
  partial?: { reasons: string[] };
  enforcement: Enforcement;
}

/** The numbers that matter first, each a list of ids the page can filter on. */
export interface Exposure {
  /** PHI workloads that an external block, an Ingress, a NodePort or a LoadBalancer reaches. */
  phiFromInternet: string[];
  /** PHI workloads that a workload of a namespace holding no PHI reaches. */
  phiFromNonPhiNamespaces: string[];
  /** Edges (ids) observed in flow logs although policy denies them. */
  enforcementGaps: string[];
  /**
   * The edges (ids) behind the first two numbers: into PHI from an external block or an entry point
   * (`internet`), into PHI from a workload of a namespace holding no PHI (`namespaces`).
   */
  edges: { internet: string[]; namespaces: string[] };
}

export interface Graph {
  generation: number;
  source: GraphSource;
  namespaces: GraphNamespace[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  summary: { workloads: number; phi: number; edges: number; failing: number; needsReview: number };
  exposure: Exposure;
  status: GraphStatus;
}

/**
 * One group of a workload's pods that policy treats alike, when the workload's pods are not all
 * treated alike (`GET /api/workloads/:id`, `podGroups`).
 */
export interface PodGroup {
  /** Pod names. */
  pods: string[];
  /** What sets them apart from the workload's other pods: `key=value`, `!key` (see phiwall explain). */
  apart: string[];
  /** The workload's edges on which its pods differ, as this group has them (`none`: not allowed). */
  edges: { id: string; source: string; target: string; ports: string }[];
  /** What this group may send outside the cluster and receive from it. */
  outside: { direction: 'egress' | 'ingress'; cidrs: string[]; ports: string }[];
}

/** What `POST /api/what-if` answers; `F` is the finding shape of whoever reads it. */
export interface WhatIfResult<F> {
  added: GraphEdge[];
  removed: GraphEdge[];
  changed: { edge: GraphEdge; before: string; after: string }[];
  newFindings: F[];
  resolvedFindings: F[];
  graph: Graph;
}

/** The Kubernetes watch vocabulary, which `--live` events use too. */
export type ObjectChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** An object a change added, modified or deleted. */
export interface ObjectRef {
  type: ObjectChangeType;
  kind: string;
  namespace: string;
  name: string;
}

/** A finding as a change event names it: enough to list it, the rest is in /api/findings. */
export interface FindingRef {
  check: string;
  title: string;
  severity: string;
  status: string;
  objects: string[];
}

/** The `change` event of `GET /api/events`. */
export interface ChangeEvent {
  generation: number;
  time: string;
  reason: string;
  objects: ObjectRef[];
  added: string[];
  removed: string[];
  changed: string[];
  /** Open (failing or needs-review, not accepted) findings that this change started or ended. */
  findings: { started: FindingRef[]; stopped: FindingRef[] };
}
