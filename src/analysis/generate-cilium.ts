import { rulePorts } from '../engine/cilium/adapter.ts';
import { ciliumSelectorMatches, podIdentityLabels } from '../engine/cilium/identity.ts';
import { CILIUM_ENTITIES, type CiliumEntity, type CiliumPolicy } from '../model/cilium.ts';
import type { Direction, Pod, Snapshot } from '../model/types.ts';
import type { FlowEdge } from './flows.ts';

/**
 * How `generate --flavor cilium` names an address peer that Cilium knows better than by its address:
 * - a destination the flow log names (Hubble's `destination_names`, from the DNS answers Cilium's proxy
 *   saw) by `toFQDNs` matchName: the address behind a name changes, the name does not;
 * - an end with one of Cilium's reserved in-cluster identities (`host`, `remote-node`,
 *   `kube-apiserver` …) by that entity, and an in-cluster end with no entity of its own by `cluster`:
 *   Cilium's CIDR rules never match cluster identities, so an address block would not allow it;
 * - an address of one of the input's Nodes (logs that carry no identity) by `host` and `remote-node`.
 * Everything else (identity `world`, or unknown) keeps the address blocks the NetworkPolicy form has,
 * which Cilium applies to addresses outside the cluster, as `world` is.
 */
export interface CiliumAddressPeer {
  sortKey: string;
  label: string;
  peers: ({ fqdn: string } | { entity: CiliumEntity })[];
  note?: string;
}

/** One rule for everything that is a node to Cilium: node addresses and hostNetwork workloads. */
export const NODES_SORT_KEY = '2entity:host';

export function ciliumAddressPeer(
  snapshot: Snapshot,
  edge: FlowEdge,
  ip: string,
  direction: Direction,
): CiliumAddressPeer | undefined {
  const { names, identity } = edge.address ?? {};
  // Cilium has no fromFQDNs: a name can only be where traffic goes.
  if (
    direction === 'egress' &&
    names &&
    names.length > 0 &&
    (identity === undefined || identity === 'world')
  ) {
    return {
      sortKey: `2fqdn:${names.join(',')}`,
      label: `${names.join(', ')} (${ip}; names from the flow log)`,
      peers: names.map((fqdn) => ({ fqdn })),
      note: 'Cilium learns the addresses of these names from DNS answers: allow-dns sends the lookups through its DNS proxy.',
    };
  }
  if (identity !== undefined && identity !== 'world') {
    const entity = entityOf(identity);
    return {
      sortKey: `2entity:${entity}`,
      label: `${entity} (${ip}, Cilium identity reserved:${identity})`,
      peers: [{ entity }],
      ...(entity === 'cluster'
        ? {
            note: 'An address inside the cluster that is none of the input’s pods: only the cluster entity names it.',
          }
        : {}),
    };
  }
  if (identity === undefined && snapshot.nodes.some((node) => node.ips.includes(ip))) {
    return {
      sortKey: NODES_SORT_KEY,
      label: `the nodes (${ip} is a Node address)`,
      peers: [{ entity: 'host' }, { entity: 'remote-node' }],
    };
  }
  return undefined;
}

/** The entity naming a reserved identity; `cluster` for an in-cluster one that has none (`unknown`). */
function entityOf(identity: string): CiliumEntity {
  return (CILIUM_ENTITIES as readonly string[]).includes(identity) ? (identity as CiliumEntity) : 'cluster';
}

/**
 * Whether generated Cilium policies allow an edge to an address by a name or entity that phiwall cannot
 * place offline (toFQDNs names, `kube-apiserver` …): a policy selecting the pod has an allow rule
 * naming it, on the edge's port. Deny rules of the input are not weighed: their match is unknown too.
 */
export function allowedByName(
  snapshot: Snapshot,
  policies: readonly CiliumPolicy[],
  pod: Pod,
  edge: FlowEdge,
  direction: Direction,
): boolean {
  const { names, identity } = edge.address ?? {};
  const labels = podIdentityLabels(pod, snapshot.namespaces.get(pod.namespace)?.labels ?? {});
  return policies.some(
    (policy) =>
      ciliumSelectorMatches(policy.endpointSelector, labels) &&
      policy[direction].some(
        (rule) =>
          !rule.deny &&
          rule.peers?.some(
            (peer) =>
              (peer.kind === 'fqdn' && (names ?? []).includes(peer.pattern)) ||
              (peer.kind === 'entity' && identity !== undefined && peer.entity === entityOf(identity)),
          ) &&
          rulePorts(rule, undefined)[edge.protocol].some(([lo, hi]) => lo <= edge.port && edge.port <= hi),
      ),
  );
}
