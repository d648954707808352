/** The shapes of the `phiwall serve` API (docs/serve-api.md). Every string in them is untrusted text. */

import type { WhatIfResult as ApiWhatIfResult, Labels, PodGroup } from '../../src/server/api-types.ts';

export type {
  ChangeEvent,
  EntryNode,
  ExternalNode,
  FindingRef,
  Graph,
  GraphEdge,
  GraphNamespace,
  GraphNode,
  Labels,
  PodGroup,
  WorkloadNode,
} from '../../src/server/api-types.ts';

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
  /** Present when the workload's pods are not all treated alike. */
  podGroups?: PodGroup[];
}

export interface Explanation {
  text: string;
  json: unknown;
}

export interface WhatIfRequest {
  yaml: string;
  delete: { kind: string; namespace: string; name: string }[];
}

export type WhatIfResult = ApiWhatIfResult<Finding>;

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
