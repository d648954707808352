import type { ClusterPolicy, Labels, NamedPort, NetworkPolicy, Node, Pod } from '../model/types.ts';
import { clusterPeerAddresses, ipBlockAddresses, parseAddress } from './addresses.ts';
import { type EngineOptions, isOutsidePolicy } from './endpoint.ts';
import type { IntervalSet } from './intervals.ts';

/** Pods that no selector, named port or ipBlock in the input can tell apart: they share every answer. */
export interface PodClass {
  id: number;
  namespace: string;
  labels: Labels;
  namedPorts: readonly NamedPort[];
  /** Equal for classes that define the same named ports, so port resolution is shared between them. */
  namedPortsId: number;
  /** hostNetwork pods when the options put them outside NetworkPolicy. */
  hostNetwork: boolean;
  /** The IPs of one member; all members' IPs fall in the same ipBlock pieces. */
  ips: readonly string[];
  addresses: readonly bigint[];
  pods: Pod[];
}

/** Every boundary of every ipBlock piece, sorted: pods between two cuts match the same ipBlocks. */
export function ipBlockCuts(policies: Iterable<NetworkPolicy>): bigint[] {
  const blocks: IntervalSet<bigint>[] = [];
  for (const policy of policies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers ?? [])
        if (peer.kind === 'ipBlock') blocks.push(ipBlockAddresses(peer.ipBlock));
    }
  }
  return cutsOf(blocks);
}

/** The same for the addresses of cluster policies' `networks` and `nodes` peers, which always match pods. */
export function clusterAddressCuts(policies: Iterable<ClusterPolicy>, nodes: readonly Node[]): bigint[] {
  const sets: IntervalSet<bigint>[] = [];
  for (const policy of policies) {
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers) if (peer.kind !== 'pods') sets.push(clusterPeerAddresses(peer, nodes));
    }
  }
  return cutsOf(sets);
}

export function cutsOf(sets: Iterable<IntervalSet<bigint>>): bigint[] {
  const cuts = new Set<bigint>();
  for (const set of sets) {
    for (const [lo, hi] of set) {
      cuts.add(lo);
      cuts.add(hi + 1n);
    }
  }
  return [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Groups pods by everything policies can observe: namespace, labels, named ports, hostNetwork and which
 * address pieces (`cuts`: those of the ipBlocks and networks that may match pods) their IPs fall in.
 */
export function groupPodClasses(
  pods: readonly Pod[],
  cuts: readonly bigint[],
  options: EngineOptions,
  /** The labels selectors see (under Cilium: with the ones it derives); the pod's own by default. */
  labelsOf: (pod: Pod) => Labels = (pod) => pod.labels,
): { classes: PodClass[]; classByPod: Map<Pod, PodClass> } {
  const classes: PodClass[] = [];
  const classByPod = new Map<Pod, PodClass>();
  const byKey = new Map<string, PodClass>();
  const namedPortsIds = new Map<string, number>();
  for (const pod of pods) {
    const addresses = pod.ips.map((ip) => parseAddress(ip) as bigint);
    const regions = cuts.length > 0 ? addresses.map((a) => upperBound(cuts, a)).sort((a, b) => a - b) : [];
    const namedPortsKey = pod.namedPorts
      .map((p) => `${p.name}/${p.protocol}/${p.port}`)
      .sort()
      .join(',');
    const podLabels = labelsOf(pod);
    const labels = Object.keys(podLabels)
      .sort()
      .map((key) => `${key}=${podLabels[key]}`);
    const hostNetwork = isOutsidePolicy(pod, options);
    // Cilium policies select by service account.
    const account = pod.serviceAccount ?? 'default';
    const key = JSON.stringify([pod.namespace, labels, namedPortsKey, hostNetwork, regions, account]);
    let podClass = byKey.get(key);
    if (!podClass) {
      podClass = {
        id: classes.length,
        namespace: pod.namespace,
        labels: podLabels,
        namedPorts: pod.namedPorts,
        namedPortsId: idFor(namedPortsIds, namedPortsKey),
        hostNetwork,
        ips: pod.ips,
        addresses,
        pods: [],
      };
      byKey.set(key, podClass);
      classes.push(podClass);
    }
    podClass.pods.push(pod);
    classByPod.set(pod, podClass);
  }
  return { classes, classByPod };
}

function idFor(ids: Map<string, number>, key: string): number {
  let id = ids.get(key);
  if (id === undefined) {
    id = ids.size;
    ids.set(key, id);
  }
  return id;
}

/** Number of cuts at or below `value`: the index of the piece `value` falls in. */
export function upperBound(cuts: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cuts[mid] as bigint) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
