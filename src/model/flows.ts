import type { Protocol } from './types.ts';

/** What the network did with a flow, as the flow log says. */
export type ObservedVerdict = 'forwarded' | 'dropped';

/**
 * One end of an observed flow, as the log names it: an IP, and when the log knows them, the namespace,
 * the pod name, the workload (owner) name and labels. Any of them may be missing.
 */
export interface FlowEndpoint {
  ip?: string;
  namespace?: string;
  pod?: string;
  /** The owner as the log names it: Hubble's `workloads[0].name`, Calico's aggregated name (`web-7d9f-*`). */
  workload?: string;
  labels?: Readonly<Record<string, string>>;
  /**
   * DNS names of the address, lowercased, without the final dot, as the log knows them (Hubble's
   * `source_names`/`destination_names`, filled from the DNS answers Cilium's proxy saw).
   */
  names?: readonly string[];
  /**
   * Cilium's reserved identity of an end that is no pod, from its `reserved:` label: `world` (outside
   * the cluster), `host`, `remote-node`, `kube-apiserver` …
   */
  identity?: string;
}

/** One record of a flow log: a connection attempt (or an aggregate of them) on one protocol and port. */
export interface ObservedFlow {
  /** ISO 8601, when the log gives a time: the first record's. */
  time?: string;
  /** The last record's time, when it stands for several records of different times. */
  until?: string;
  src: FlowEndpoint;
  dst: FlowEndpoint;
  protocol: Protocol;
  /** Destination port. */
  port: number;
  verdict: ObservedVerdict;
  /** Why a dropped connection was dropped, when the log says (Hubble's drop reason: `POLICY_DENIED` …). */
  dropReason?: string;
  /**
   * How many connections it stands for: Hubble's events of one connection are read as one; Calico
   * aggregates count their connections (`num_flows`); a CSV row says (`count`, else 1).
   */
  count: number;
  /** How many records of the log it was read from (Hubble: every event of the connection). */
  events: number;
  /** Where the record is: for messages and evidence. */
  file: string;
  line: number;
}

/** What a reader could not use, so that nothing is dropped silently. */
export interface FlowReadStats {
  file: string;
  format: 'hubble' | 'calico' | 'csv';
  lines: number;
  /** Flows passed on (connections, or aggregates of them), the connections they stand for, their records. */
  flows: number;
  connections: number;
  events: number;
  /** How the format's records are counted as connections, in words, for the report. */
  counting: string;
  /** Lines that are not valid records of the format: counted, the first one named. */
  malformed: { count: number; firstLine?: number; firstProblem?: string };
  /** Valid records phiwall does not compare (ICMP, L7-only, no port …), counted per reason. */
  ignored: Record<string, number>;
}
