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

/** The policy.networking.k8s.io kinds: cluster-scoped policies evaluated around NetworkPolicies. */
export type ClusterPolicyKind = 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy' | 'ClusterNetworkPolicy';

/** Admin-tier rules are evaluated before NetworkPolicies, Baseline-tier rules after them. */
export type Tier = 'Admin' | 'Baseline';

/** v1alpha2's `Accept` is read as `Allow`; `ClusterPolicy.kind` tells which word the author wrote. */
export type ClusterAction = 'Allow' | 'Deny' | 'Pass';

/** Pods in namespaces matching `namespaceSelector` whose labels match `podSelector` (undefined: all). */
export interface PodScope {
  namespaceSelector: LabelSelector;
  podSelector?: LabelSelector;
}

export type ClusterPeer =
  | ({ kind: 'pods' } & PodScope)
  /** Matches the addresses of the input's Node objects whose labels match. */
  | { kind: 'nodes'; nodeSelector: LabelSelector }
  /** CIDRs; unlike a NetworkPolicy ipBlock, the API says these match pod IPs too. */
  | { kind: 'networks'; cidrs: readonly string[] };

export type ClusterPort =
  /** `port` undefined: every port of the protocol. */
  | { kind: 'number'; protocol: Protocol; port?: number; endPort?: number }
  /** Matched by name on the destination pod, whatever protocol its container port declares. */
  | { kind: 'named'; name: string };

export interface ClusterRule {
  direction: Direction;
  index: number;
  name: string;
  action: ClusterAction;
  peers: readonly ClusterPeer[];
  /** undefined: every port of every protocol. */
  ports?: readonly ClusterPort[];
  provenance: Provenance;
}

export interface ClusterPolicy {
  kind: ClusterPolicyKind;
  name: string;
  tier: Tier;
  /** Lower first. A BaselineAdminNetworkPolicy has none and comes after every Baseline-tier policy. */
  priority?: number;
  subject: PodScope;
  ingress: readonly ClusterRule[];
  egress: readonly ClusterRule[];
  provenance: Provenance;
}

/**
 * The order in which a tier's policies are evaluated: by priority, then (for same-priority policies,
 * which the API leaves undefined and the loader warns about) by input order, which `Array.sort` keeps.
 */
export function clusterPolicyOrder(a: ClusterPolicy, b: ClusterPolicy): number {
  return (a.priority ?? Number.POSITIVE_INFINITY) - (b.priority ?? Number.POSITIVE_INFINITY) || 0;
}

/** Word the author wrote for an allowing action: `Accept` in v1alpha2, `Allow` in v1alpha1. */
export function actionWord(policy: ClusterPolicy, action: ClusterAction): string {
  return action === 'Allow' && policy.kind === 'ClusterNetworkPolicy' ? 'Accept' : action;
}

/** `AdminNetworkPolicy/deny-outsiders`: cluster policies have no namespace, and kinds share names. */
export function clusterPolicyId(policy: ClusterPolicy): string {
  return `${policy.kind}/${policy.name}`;
}

/** `AdminNetworkPolicy/deny-outsiders ingress[0] "deny-all"`. */
export function clusterRuleId(policy: ClusterPolicy, rule: ClusterRule): string {
  return `${clusterPolicyId(policy)} ${rule.direction}[${rule.index}]${rule.name ? ` "${rule.name}"` : ''}`;
}

export interface Node {
  name: string;
  labels: Labels;
  /** status.addresses of type InternalIP and ExternalIP. */
  ips: readonly string[];
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
  /** spec.serviceAccountName; undefined reads as `default`. */
  serviceAccount?: string;
  containers: readonly ContainerFacts[];
  /** Id of the workload the pod belongs to, e.g. `shop/web[Deployment]`. */
  workload: string;
  /**
   * The controllers above the pod, nearest first (`shop/web-5c6b9d[ReplicaSet]`, `shop/web[Deployment]`),
   * as far as the input shows them; empty or absent for a pod without a controller.
   */
  controllers?: readonly string[];
  provenance: Provenance;
}

/**
 * How workloads are named: `top`, after the highest controller in the pods' ownerReference chain
 * (a Deployment, not its ReplicaSets); `controller`, after the immediate controller (netpol-analyzer's names).
 */
export type WorkloadNames = 'top' | 'controller';

/**
 * Which rule named a workload: `object`, an object the input holds (the controller, or the pod or
 * workload itself); `owner-reference`, an ownerReference to an object the input does not hold;
 * `pod-template-hash`, a Deployment read from its absent ReplicaSet's name and the pods' hash label.
 */
export type NamingRule = 'object' | 'owner-reference' | 'pod-template-hash';

export interface Workload {
  /** `ns/name[Kind]`. */
  id: string;
  namespace: string;
  name: string;
  kind: string;
  pods: readonly Pod[];
  /** The least certain rule that named one of its pods; absent means `object`. */
  namedBy?: NamingRule;
  provenance: Provenance;
  /**
   * The controller's `spec.selector`, when the input declares the controller: what selects its pods
   * across rollouts, unlike template labels such as a version or chart.
   */
  selector?: LabelSelector;
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
  /** AdminNetworkPolicies, BaselineAdminNetworkPolicies and ClusterNetworkPolicies, in input order. */
  clusterPolicies: readonly ClusterPolicy[];
  /** CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, one entry per spec, in input order. */
  ciliumPolicies: readonly import('./cilium.ts').CiliumPolicy[];
  ciliumCidrGroups: readonly import('./cilium.ts').CiliumCidrGroup[];
  /** Cilium host policies (`nodeSelector`), read and left out: they police nodes, not pods. */
  ciliumHostPolicies?: readonly { id: string; provenance: Provenance }[];
  /** Calico's own resources, when the input has any. */
  calico?: import('./calico.ts').CalicoResources;
  nodes: readonly Node[];
  services: readonly KeptObject[];
  ingresses: readonly KeptObject[];
  inputs: readonly { path: string; sha256: string }[];
  warnings: readonly import('../load/diagnostics.ts').Diagnostic[];
  /** Objects of kinds phiwall does not analyse, counted per `Kind (apiVersion)`. */
  skippedKinds: ReadonlyMap<string, number>;
  /** True when `--skip-invalid` left invalid objects out. */
  partial: boolean;
}

/**
 * Whether `b` differs from `a` in NetworkPolicies alone: every other part is the same object (what the
 * server's input loader hands on when only policy files changed), so an engine of `a` can follow it.
 */
export function differsInPoliciesAlone(a: Snapshot, b: Snapshot): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof Snapshot)[]);
  keys.delete('policies');
  // Where the objects were read from says nothing about them; reading it would hash every input.
  keys.delete('inputs');
  return [...keys].every((key) => a[key] === b[key]);
}

export function workloadId(namespace: string, name: string, kind: string): string {
  return `${namespace}/${name}[${kind}]`;
}
