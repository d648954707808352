import type {
  ClusterPeer,
  ClusterPolicy,
  IpBlock,
  LabelSelector,
  Namespace,
  NetworkPolicy,
  Node,
  PolicyPeer,
} from '../model/types.ts';
import { clusterPeerAddresses, ipBlockAddresses } from './addresses.ts';
import type { EngineOptions } from './endpoint.ts';
import { type IntervalSet, union } from './intervals.ts';
import type { PodClass } from './pod-classes.ts';
import { selectorMatches } from './selectors.ts';

export interface PeerSets {
  /** Classes the peers admit. */
  classes: ReadonlySet<number>;
  /** Those admitted only because an ipBlock covers their IPs (the ipblock-matches-pods choice). */
  classesByIpBlock: ReadonlySet<number>;
  /** External addresses the peers admit. */
  addresses: IntervalSet<bigint>;
}

/**
 * Resolves selectors to pod classes once per distinct selector: thousands of policies repeat a few
 * hundred selectors, and each is matched against the classes of the namespaces it can reach only.
 */
export class PeerMatcher {
  private readonly classesByNamespace = new Map<string, PodClass[]>();
  /** Every address of every class, sorted, so an ipBlock finds the classes it covers by binary search. */
  private readonly addressIndex: { address: bigint; classId: number }[] = [];
  private readonly namespaceCache = new Map<string, readonly string[]>();
  private readonly podsCache = new Map<string, readonly number[]>();
  private readonly blockCache = new Map<string, IntervalSet<bigint>>();
  private readonly selectedCache = new WeakMap<NetworkPolicy, readonly number[]>();
  private readonly peerSetsCache = new Map<string, PeerSets>();

  private readonly clusterSubjectCache = new WeakMap<ClusterPolicy, ReadonlySet<number>>();

  constructor(
    private readonly namespaces: ReadonlyMap<string, Namespace>,
    classes: readonly PodClass[],
    private readonly nodes: readonly Node[] = [],
  ) {
    for (const podClass of classes) {
      for (const address of podClass.addresses) this.addressIndex.push({ address, classId: podClass.id });
      // Pod and namespace selectors never see pods outside NetworkPolicy.
      if (podClass.hostNetwork) continue;
      const list = this.classesByNamespace.get(podClass.namespace);
      if (list) list.push(podClass);
      else this.classesByNamespace.set(podClass.namespace, [podClass]);
    }
    this.addressIndex.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /** Classes a policy's spec.podSelector selects (in its own namespace). */
  selectedBy(policy: NetworkPolicy): readonly number[] {
    let ids = this.selectedCache.get(policy);
    if (!ids) {
      ids = this.pods({ namespace: policy.namespace }, policy.podSelector);
      this.selectedCache.set(policy, ids);
    }
    return ids;
  }

  /** Classes a cluster policy's subject selects; hostNetwork pods are never subjects. */
  clusterSubject(policy: ClusterPolicy): ReadonlySet<number> {
    let ids = this.clusterSubjectCache.get(policy);
    if (!ids) {
      ids = new Set(this.pods({ selector: policy.subject.namespaceSelector }, policy.subject.podSelector));
      this.clusterSubjectCache.set(policy, ids);
    }
    return ids;
  }

  /** What a cluster rule's peers match: pods by selector, and addresses (with the pods that own them). */
  clusterPeers(peers: readonly ClusterPeer[]): {
    classes: ReadonlySet<number>;
    addresses: IntervalSet<bigint>;
  } {
    const classes = new Set<number>();
    let addresses: IntervalSet<bigint> = [];
    for (const peer of peers) {
      if (peer.kind === 'pods') {
        for (const id of this.pods({ selector: peer.namespaceSelector }, peer.podSelector)) classes.add(id);
        continue;
      }
      const matched = clusterPeerAddresses(peer, this.nodes);
      addresses = union(addresses, matched);
      for (const id of this.ipBlockPeer(matched)) classes.add(id);
    }
    return { classes, addresses };
  }

  /**
   * What a rule's peer list admits: classes (and which of them only through an ipBlock) and external
   * addresses. Rules repeat peer lists (a DNS rule in every namespace), so equal lists share one answer.
   */
  peers(policyNamespace: string, peers: readonly PolicyPeer[], options: EngineOptions): PeerSets {
    const key = peers
      .map((peer) =>
        peer.kind === 'ipBlock'
          ? `b:${peer.ipBlock.cidr} ${peer.ipBlock.except.join(' ')}`
          : `p:${peer.namespaceSelector ? selectorKey(peer.namespaceSelector) : `=${policyNamespace}`}|${peer.podSelector ? selectorKey(peer.podSelector) : '*'}`,
      )
      .join('\n');
    let sets = this.peerSetsCache.get(key);
    if (!sets) {
      const bySelector = new Set<number>();
      const byIpBlock = new Set<number>();
      let addresses: IntervalSet<bigint> = [];
      for (const peer of peers) {
        if (peer.kind === 'ipBlock') {
          const block = this.addressesOf(peer.ipBlock);
          addresses = union(addresses, block);
          if (options.ipBlockMatchesPods)
            for (const classId of this.ipBlockPeer(block)) byIpBlock.add(classId);
        } else {
          for (const classId of this.podPeer(policyNamespace, peer.podSelector, peer.namespaceSelector)) {
            bySelector.add(classId);
          }
        }
      }
      for (const classId of bySelector) byIpBlock.delete(classId);
      for (const classId of byIpBlock) bySelector.add(classId);
      sets = { classes: bySelector, classesByIpBlock: byIpBlock, addresses };
      this.peerSetsCache.set(key, sets);
    }
    return sets;
  }

  /** Classes a pod peer admits: `namespaceSelector` undefined means the policy's own namespace. */
  podPeer(
    policyNamespace: string,
    podSelector?: LabelSelector,
    namespaceSelector?: LabelSelector,
  ): readonly number[] {
    return this.pods(
      namespaceSelector ? { selector: namespaceSelector } : { namespace: policyNamespace },
      podSelector,
    );
  }

  /** Classes whose IPs an ipBlock covers; the pieces are cut at every ipBlock edge, so one IP decides. */
  ipBlockPeer(addresses: IntervalSet<bigint>): number[] {
    const found: number[] = [];
    for (const [lo, hi] of addresses) {
      for (let i = this.firstAtOrAbove(lo); i < this.addressIndex.length; i++) {
        const entry = this.addressIndex[i] as { address: bigint; classId: number };
        if (entry.address > hi) break;
        found.push(entry.classId);
      }
    }
    return found;
  }

  addressesOf(block: IpBlock): IntervalSet<bigint> {
    const key = `${block.cidr} ${block.except.join(' ')}`;
    let addresses = this.blockCache.get(key);
    if (!addresses) {
      addresses = ipBlockAddresses(block);
      this.blockCache.set(key, addresses);
    }
    return addresses;
  }

  private pods(
    scope: { namespace: string } | { selector: LabelSelector },
    podSelector?: LabelSelector,
  ): readonly number[] {
    const where = 'namespace' in scope ? `=${scope.namespace}` : selectorKey(scope.selector);
    const key = `${where}|${podSelector ? selectorKey(podSelector) : '*'}`;
    let ids = this.podsCache.get(key);
    if (!ids) {
      const namespaces = 'namespace' in scope ? [scope.namespace] : this.namespacesMatching(scope.selector);
      ids = namespaces.flatMap((name) =>
        (this.classesByNamespace.get(name) ?? [])
          .filter((c) => !podSelector || selectorMatches(podSelector, c.labels))
          .map((c) => c.id),
      );
      this.podsCache.set(key, ids);
    }
    return ids;
  }

  private namespacesMatching(selector: LabelSelector): readonly string[] {
    const key = selectorKey(selector);
    let names = this.namespaceCache.get(key);
    if (!names) {
      names = [...this.namespaces.values()]
        .filter((ns) => selectorMatches(selector, ns.labels))
        .map((ns) => ns.name);
      this.namespaceCache.set(key, names);
    }
    return names;
  }

  private firstAtOrAbove(value: bigint): number {
    let lo = 0;
    let hi = this.addressIndex.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.addressIndex[mid] as { address: bigint }).address < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A selector's meaning as a string: the cache key that lets thousands of policies share one match. */
function selectorKey(selector: LabelSelector): string {
  const labels = Object.keys(selector.matchLabels)
    .sort()
    .map((key) => `${key}=${selector.matchLabels[key]}`);
  const expressions = selector.matchExpressions
    .map((e) => `${e.key} ${e.operator} ${[...e.values].sort().join(',')}`)
    .sort();
  return JSON.stringify([labels, expressions]);
}
