import type { Pod } from '../model/types.ts';

/** One end of a connection: a pod, or an address outside the pods. */
export type Endpoint = { pod: Pod } | { ip: string };

export interface EngineOptions {
  /**
   * Whether an ipBlock that covers a pod's IP matches that pod. The Kubernetes conformance tests expect it;
   * some CNIs only match ipBlocks against traffic from outside the cluster.
   */
  ipBlockMatchesPods: boolean;
  /**
   * How the CNI treats hostNetwork pods, which the NetworkPolicy API leaves undefined. `node` (the most
   * common implementation): policies neither isolate nor select them, and their traffic is their node's,
   * matched only by ipBlocks. `pod`: they are policed and selected like any other pod.
   */
  hostNetwork: 'node' | 'pod';
  /**
   * Cilium matches every selector, NetworkPolicy's too, against the labels it derives for a pod
   * (`io.kubernetes.pod.namespace`, `io.cilium.k8s.policy.serviceaccount`, `io.cilium.k8s.policy.cluster`,
   * `io.cilium.k8s.namespace.labels.*`) besides the pod's own: the `cilium` CNI profile sets this.
   */
  ciliumIdentity?: boolean;
}

export const DEFAULT_OPTIONS: EngineOptions = { ipBlockMatchesPods: true, hostNetwork: 'node' };

/** Whether the pod's traffic is its node's, outside NetworkPolicy, under these options. */
export function isOutsidePolicy(pod: Pod, options: EngineOptions): boolean {
  return pod.hostNetwork && options.hostNetwork === 'node';
}
