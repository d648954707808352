import type { Position } from '../load/documents.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export type Labels = Readonly<Record<string, string>>;

/** Where an object or field came from: enough to print `file:line:column`. */
export interface Provenance {
  file: string;
  /** Computed on demand: positions in large JSON inputs cost a second parse. */
  locate(): Position;
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelector {
  matchLabels: Labels;
  matchExpressions: readonly { key: string; operator: SelectorOperator; values: readonly string[] }[];
}

export interface IpBlock {
  cidr: string;
  except: readonly string[];
}

/**
 * A NetworkPolicyPeer. `namespaceSelector` undefined means "the policy's own namespace";
 * `podSelector` undefined with a namespaceSelector means "every pod" there.
 */
export type PolicyPeer =
  | { kind: 'pods'; podSelector?: LabelSelector; namespaceSelector?: LabelSelector }
  | { kind: 'ipBlock'; ipBlock: IpBlock };

export interface PolicyPort {
  protocol: Protocol;
  /** A number, a named port, or undefined for every port of the protocol. */
  port?: number | string;
  endPort?: number;
}

export type Direction = 'ingress' | 'egress';

export interface PolicyRule {
  direction: Direction;
  index: number;
  /** undefined: the rule names no peers and so admits every peer, external ones too. */
  peers?: readonly PolicyPeer[];
  /** undefined: every port of every protocol. */
  ports?: readonly PolicyPort[];
  provenance: Provenance;
}

export interface NetworkPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** Effective policyTypes, after the defaulting the API server applies. */
  isolates: { ingress: boolean; egress: boolean };
  ingress: readonly PolicyRule[];
  egress: readonly PolicyRule[];
  provenance: Provenance;
}

export interface NamedPort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface ContainerFacts {
  name: string;
  image: string;
  /** command and args, as written. */
  args: readonly string[];
  /** Literal environment variables, `NAME=value`. */
  env: readonly string[];
  hostPorts: readonly number[];
  /** Every declared containerPort, named or not. */
  containerPorts: readonly { port: number; protocol: string }[];
}

export interface Pod {
  namespace: string;
  name: string;
  labels: Labels;
  annotations: Labels;
  /** Pod IPs (status.podIP / podIPs); empty for pods that come from a workload template. */
  ips: readonly string[];
  namedPorts: readonly NamedPort[];
  hostNetwork: boolean;
  containers: readonly ContainerFacts[];
  /** Id of the workload the pod belongs to, e.g. `shop/web[Deployment]`. */
  workload: string;
  provenance: Provenance;
}

export interface Workload {
  /** `ns/name[Kind]`. */
  id: string;
  namespace: string;
  name: string;
  kind: string;
  pods: readonly Pod[];
  provenance: Provenance;
}

export interface Namespace {
  name: string;
  /** Includes `kubernetes.io/metadata.name`, which the API server always sets. */
  labels: Labels;
  /** False for a namespace that objects refer to but the input does not declare. */
  declared: boolean;
}

/** A kept object the engine does not evaluate yet (Service, Ingress). */
export interface KeptObject {
  kind: string;
  namespace: string;
  name: string;
  object: Readonly<Record<string, unknown>>;
  provenance: Provenance;
}

export interface Snapshot {
  namespaces: ReadonlyMap<string, Namespace>;
  workloads: readonly Workload[];
  pods: readonly Pod[];
  policies: readonly NetworkPolicy[];
  services: readonly KeptObject[];
  ingresses: readonly KeptObject[];
  inputs: readonly { path: string; sha256: string }[];
  warnings: readonly import('../load/diagnostics.ts').Diagnostic[];
  /** Objects of kinds phiwall does not analyse, counted per `Kind (apiVersion)`. */
  skippedKinds: ReadonlyMap<string, number>;
  /** True when `--skip-invalid` left invalid objects out. */
  partial: boolean;
}

export function workloadId(namespace: string, name: string, kind: string): string {
  return `${namespace}/${name}[${kind}]`;
}
