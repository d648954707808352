import type { Pod, Snapshot } from '../model/types.ts';
import { type AddressGroup, coveringCidrs, type ExternalGrouping, PRIVATE_RANGES } from './external-peers.ts';

/**
 * The peers `generate --from-flows` writes for addresses outside the pods: one rule per address group
 * (external-peers.ts), never one per address.
 */

export interface ExternalPeers {
  peers: { ipBlock: string; except?: string[] }[];
  /** How the rule's comment names the peer. */
  label: string;
  note?: string;
}

/** Names ingress controllers go by (ingress-nginx, Traefik, Contour, Kong, HAProxy's, Istio's gateway). */
const INGRESS_CONTROLLER = /ingress|traefik|contour|kong/i;

function selects(selector: unknown, pod: Pod): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => pod.labels[key] === value);
}

/**
 * Why pods are a public entry point, or undefined: a NodePort or LoadBalancer Service (or one with
 * externalIPs) selects them, or they are an ingress controller by name (the workload's, or its
 * `app.kubernetes.io/name` or `app` label).
 */
export function publicEntryPoint(snapshot: Snapshot, name: string, pods: readonly Pod[]): string | undefined {
  for (const service of snapshot.services) {
    const spec = service.object.spec as
      | { type?: unknown; selector?: unknown; externalIPs?: unknown }
      | undefined;
    const exposed =
      spec?.type === 'NodePort' ||
      spec?.type === 'LoadBalancer' ||
      (Array.isArray(spec?.externalIPs) && spec.externalIPs.length > 0);
    if (!exposed) continue;
    if (pods.some((pod) => pod.namespace === service.namespace && selects(spec?.selector, pod))) {
      return `Service ${service.namespace}/${service.name} (${String(spec?.type ?? 'externalIPs')})`;
    }
  }
  const labels = pods[0]?.labels ?? {};
  const named = [name, labels['app.kubernetes.io/name'], labels.app].find(
    (text) => text !== undefined && INGRESS_CONTROLLER.test(text),
  );
  return named === undefined ? undefined : `an ingress controller (${named})`;
}

/** Every public address of the families seen: `0.0.0.0/0` (and `::/0`) minus the private ranges. */
function everyPublicAddress(addresses: Iterable<string>): ExternalPeers['peers'] {
  const list = [...addresses];
  const peers: ExternalPeers['peers'] = [];
  if (list.some((ip) => !ip.includes(':')))
    peers.push({ ipBlock: '0.0.0.0/0', except: [...PRIVATE_RANGES.v4] });
  if (list.some((ip) => ip.includes(':'))) peers.push({ ipBlock: '::/0', except: [...PRIVATE_RANGES.v6] });
  return peers;
}

/**
 * The peers of one rule for the addresses of one group seen on one side of a unit:
 * - a configured network: its blocks;
 * - the internet, into a public entry point that saw at least `publicClients` of them: every public
 *   address, as a list of the clients seen would deny the next one;
 * - otherwise the smallest blocks covering the addresses seen, none wider than the prefix length.
 */
export function externalPeers(
  group: AddressGroup,
  addresses: ReadonlySet<string>,
  entryPoint: string | undefined,
  grouping: ExternalGrouping,
): ExternalPeers {
  const n = addresses.size;
  const seen = n === 1 ? [...addresses][0] : `${n} addresses`;
  if (group.kind === 'network' && group.cidrs !== undefined) {
    return {
      peers: group.cidrs.map((ipBlock) => ({ ipBlock })),
      label: `${group.label} (${seen}; the configured network ${group.cidrs.join(', ')})`,
    };
  }
  if (group.kind === 'public' && entryPoint !== undefined && n >= grouping.publicClients) {
    return {
      peers: everyPublicAddress(addresses),
      label: `the internet (${n} public clients)`,
      note: `A public entry point (${entryPoint}) that served ${n} public clients: every public address is allowed (0.0.0.0/0 minus private ranges), as a list of the clients seen would deny the next one.`,
    };
  }
  const cidrs = coveringCidrs(addresses, grouping.prefixLength);
  const widened = cidrs.some((cidr) => !cidr.endsWith('/32') && !cidr.endsWith('/128'));
  return {
    peers: cidrs.map((ipBlock) => ({ ipBlock })),
    label: `${seen} (${group.label}${n === 1 ? ', no pod of the input' : ''})`,
    ...(widened
      ? {
          note: `The smallest blocks covering the addresses seen, none wider than /${grouping.prefixLength.v4} (IPv6 /${grouping.prefixLength.v6}).`,
        }
      : {}),
  };
}
