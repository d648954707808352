import { formatAddress, parseAddress, parseCidr } from '../engine/addresses.ts';

/**
 * Addresses outside the cluster's pods, grouped for reports and generated policies: by the networks the
 * configuration names (`networks:` in phiwall.yaml: a corporate VPN, a partner's lab), then private
 * versus public. One rule per internet client would be unreadable, and would deny the next client.
 */

export interface KnownNetwork {
  name: string;
  cidrs: readonly string[];
}

export interface ExternalGrouping {
  networks: readonly KnownNetwork[];
  /** Covering blocks are no wider than this (IPv4, IPv6). */
  prefixLength: { v4: number; v6: number };
  /** A public entry point that saw at least this many public clients is open to every public address. */
  publicClients: number;
}

export const DEFAULT_GROUPING: ExternalGrouping = {
  networks: [],
  prefixLength: { v4: 24, v6: 64 },
  publicClients: 20,
};

/**
 * Private address space: RFC 1918, shared (CGNAT), loopback, link-local; IPv6 unique-local, link-local
 * and loopback. Documentation blocks (203.0.113.0/24 …) count as public, as examples use them for
 * internet hosts. What `0.0.0.0/0` minus these leaves is the internet.
 */
export const PRIVATE_RANGES = {
  v4: ['10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'],
  v6: ['::1/128', 'fc00::/7', 'fe80::/10'],
} as const;

export type AddressGroupKind = 'network' | 'private' | 'public';

export interface AddressGroup {
  kind: AddressGroupKind;
  /** What reports call it: the network's name, `private addresses`, `internet`. */
  label: string;
  /** A configured network's blocks. */
  cidrs?: readonly string[];
}

const PRIVATE: AddressGroup = { kind: 'private', label: 'private addresses' };
const PUBLIC: AddressGroup = { kind: 'public', label: 'internet' };

interface Range {
  lo: bigint;
  hi: bigint;
}

function ranges(cidrs: readonly string[]): Range[] {
  return cidrs.flatMap((text) => {
    const cidr = parseCidr(text);
    return cidr ? [{ lo: cidr.lo, hi: cidr.hi }] : [];
  });
}

const PRIVATE_BLOCKS = ranges([...PRIVATE_RANGES.v4, ...PRIVATE_RANGES.v6]);

const within = (address: bigint, list: readonly Range[]) =>
  list.some((r) => address >= r.lo && address <= r.hi);

/** Tells which group an address is in: the first configured network holding it, else private or public. */
export class AddressGroups {
  private readonly networks: { group: AddressGroup; ranges: Range[] }[];

  constructor(networks: readonly KnownNetwork[]) {
    this.networks = networks.map((n) => ({
      group: { kind: 'network', label: n.name, cidrs: n.cidrs },
      ranges: ranges(n.cidrs),
    }));
  }

  of(ip: string): AddressGroup {
    const address = parseAddress(ip);
    if (address === undefined) return PUBLIC;
    for (const network of this.networks) if (within(address, network.ranges)) return network.group;
    return within(address, PRIVATE_BLOCKS) ? PRIVATE : PUBLIC;
  }
}

/**
 * The smallest blocks covering the addresses, none wider than the prefix length: the addresses are split
 * by their block of that length, and each part is covered by its longest common prefix (one address: a
 * /32 or /128).
 */
export function coveringCidrs(ips: Iterable<string>, prefixLength: { v4: number; v6: number }): string[] {
  const parts = new Map<string, { text: string; value: bigint; v6: boolean }[]>();
  for (const ip of ips) {
    const value = parseAddress(ip);
    if (value === undefined) continue;
    const text = formatAddress(value);
    const v6 = text.includes(':');
    const block = parseCidr(`${text}/${v6 ? prefixLength.v6 : prefixLength.v4}`);
    if (!block) continue;
    const key = String(block.lo);
    const part = parts.get(key) ?? [];
    part.push({ text, value, v6 });
    parts.set(key, part);
  }
  const out: { lo: bigint; cidr: string }[] = [];
  for (const part of parts.values()) {
    const first = part[0] as (typeof part)[number];
    const bits = first.v6 ? 128 : 32;
    let length = first.v6 ? prefixLength.v6 : prefixLength.v4;
    let best = parseCidr(`${first.text}/${length}`) as { lo: bigint; hi: bigint };
    while (length < bits) {
      const narrower = parseCidr(`${first.text}/${length + 1}`);
      if (!narrower || part.some((a) => a.value < narrower.lo || a.value > narrower.hi)) break;
      best = narrower;
      length++;
    }
    out.push({ lo: best.lo, cidr: `${formatAddress(best.lo)}/${length}` });
  }
  return out.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0)).map((c) => c.cidr);
}

/** An edge with an end outside the pods, as a report shows it: one group of addresses, each address counted. */
export interface GroupedEnd {
  side: 'src' | 'dst';
  group: AddressGroup;
  addresses: { ip: string; count: number; records: number }[];
}

interface Groupable {
  src: { workload: string } | { ip: string };
  dst: { workload: string } | { ip: string };
  count: number;
  events: number;
  firstSeen?: string;
  lastSeen?: string;
}

/**
 * Folds edges that differ only in their external address into one per address group (the other end,
 * protocol, port and whatever `same` says staying apart), keeping each address with its count. The
 * first edge of a group stands for it (its place in the log, its explanation); counts and times are
 * summed over the group. Edges between two workloads pass unchanged.
 */
export function groupExternalEdges<T extends Groupable>(
  edges: readonly T[],
  groups: AddressGroups,
  same: (edge: T) => string,
): (T & { external?: GroupedEnd })[] {
  const out: (T & { external?: GroupedEnd })[] = [];
  const byKey = new Map<string, T & { external: GroupedEnd }>();
  for (const edge of edges) {
    const side: GroupedEnd['side'] | undefined =
      'ip' in edge.src ? 'src' : 'ip' in edge.dst ? 'dst' : undefined;
    if (side === undefined) {
      out.push(edge);
      continue;
    }
    const ip = (edge[side] as { ip: string }).ip;
    const other = side === 'src' ? edge.dst : edge.src;
    const group = groups.of(ip);
    const key = JSON.stringify([side, group.label, other, same(edge)]);
    const address = { ip, count: edge.count, records: edge.events };
    const known = byKey.get(key);
    if (known === undefined) {
      const grouped = { ...edge, external: { side, group, addresses: [address] } };
      byKey.set(key, grouped);
      out.push(grouped);
      continue;
    }
    known.external.addresses.push(address);
    known.count += edge.count;
    known.events += edge.events;
    if (edge.firstSeen && (!known.firstSeen || edge.firstSeen < known.firstSeen))
      known.firstSeen = edge.firstSeen;
    if (edge.lastSeen && (!known.lastSeen || edge.lastSeen > known.lastSeen)) known.lastSeen = edge.lastSeen;
  }
  return out;
}
