/** The shapes of the `phiwall serve` API (docs/serve-api.md). Every string in them is untrusted text. */

export type Labels = Record<string, string>;

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
  kind: string;
  namespace?: string;
  name?: string;
  targets: string[];
}

export type GraphNode = WorkloadNode | ExternalNode | EntryNode;

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  ports: string;
  protocols: string[];
  phi: boolean;
  dependsOn: string[];
}

export interface GraphSummary {
  workloads: number;
  phi: number;
  edges: number;
  failing: number;
  needsReview: number;
}

export interface Graph {
  generation: number;
  source: { kind: string; label: string };
  namespaces: GraphNamespace[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  summary: GraphSummary;
}

export type Status = 'pass' | 'fail' | 'needs-review' | 'not-assessable';

export interface Finding {
  check: string;
  title: string;
  status: Status;
  severity: string;
  hipaa: string[];
  objects: string[];
  evidence: {
    notes?: string[];
    edges?: string[];
    rules?: { rule: string; at?: string }[];
  };
  remediation?: { text: string; yaml?: string };
  location?: { file: string; line: number };
  accepted?: { reason: string; until: string };
}

export interface PolicyRef {
  kind: string;
  name: string;
  namespace?: string;
  directions: string[];
  at?: string;
}

export interface WorkloadDetail {
  id: string;
  namespace: string;
  name: string;
  kind: string;
  labels: Labels;
  annotations: Labels;
  phi: boolean;
  phiReason?: string;
  policies: PolicyRef[];
  findings: Finding[];
}

export interface Explanation {
  text: string;
  json: unknown;
}

export interface ChangeObject {
  type?: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ChangeEvent {
  generation: number;
  time: string;
  reason: string;
  objects: ChangeObject[];
  added: string[];
  removed: string[];
  changed: string[];
}

export interface WhatIfRequest {
  yaml: string;
  delete: { kind: string; namespace: string; name: string }[];
}

export interface WhatIfResult {
  added: GraphEdge[];
  removed: GraphEdge[];
  changed: { edge: GraphEdge; before: string; after: string }[];
  newFindings: Finding[];
  resolvedFindings: Finding[];
  graph: Graph;
}

export type FlowPeer = { workload: string } | { ip: string } | { external: string[] };

export interface ObservedFlow {
  src: FlowPeer;
  dst: FlowPeer;
  protocol: string;
  port: number;
  observed: string;
  policy: string;
  count: number;
  phi: string[];
  at?: string;
}

export interface UnusedFlow {
  src: FlowPeer;
  dst: FlowPeer;
  phi: string[];
}

export interface FlowsReport {
  summary: Record<string, number>;
  window?: { from: string; to: string };
  gap: ObservedFlow[];
  needed: ObservedFlow[];
  droppedAllowed: ObservedFlow[];
  used: ObservedFlow[];
  unused: UnusedFlow[];
}

export type FlowGroup = 'gap' | 'needed' | 'droppedAllowed' | 'used';
