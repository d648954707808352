import { parseCidr, toCidrs, V6_OFFSET } from '../engine/addresses.ts';
import { type IntervalSet, normalize } from '../engine/intervals.ts';
import { equalPorts, NO_PORTS } from '../engine/ports.ts';
import type { Direction } from '../model/types.ts';
import { type Connection, type ConnectionPeer, isNamedPeer } from './connectivity.ts';

/**
 * One connection that appears, disappears or changes ports between two listings. An external end is
 * an address range over which the answer before and the answer after are each the same; `was` and
 * `now` are the connection to that range as each listing allows it (absent: nothing allowed).
 */
export interface ConnectionDelta {
  /** Orders deltas as the connectivity listing does, external ranges by address. */
  key: string;
  was?: Connection;
  now?: Connection;
}

/** Workloads before external ranges, so people read the cluster first. */
function workloadKey(workload: string): string {
  return `0${workload}`;
}

function addressKey(address: bigint): string {
  return `1${address.toString(16).padStart(33, '0')}`;
}

function pairKey(c: { src: ConnectionPeer; dst: ConnectionPeer }): string {
  const side = (p: ConnectionPeer) =>
    'workload' in p ? workloadKey(p.workload) : `1${p.external.join(',')}`;
  return `${side(c.src)}\0${side(c.dst)}`;
}

/** Listings share one CIDR array per distinct answer, so each is parsed once. */
const addressCache = new WeakMap<readonly string[], IntervalSet<bigint>>();
function addressesOf(cidrs: readonly string[]): IntervalSet<bigint> {
  let set = addressCache.get(cidrs);
  if (!set) {
    set = normalize(
      cidrs.flatMap((text) => {
        const cidr = parseCidr(text);
        return cidr ? [[cidr.lo, cidr.hi] as const] : [];
      }),
    );
    addressCache.set(cidrs, set);
  }
  return set;
}

interface Piece {
  lo: bigint;
  hi: bigint;
  connection: Connection;
}

/** A workload's external grants in one direction, as disjoint address pieces sorted by address. */
type ExternalSide = Map<string, { workload: string; direction: Direction; pieces: Piece[] }>;

function split(list: readonly Connection[]): { internal: Map<string, Connection>; external: ExternalSide } {
  const internal = new Map<string, Connection>();
  const external: ExternalSide = new Map();
  for (const c of list) {
    const [workload, direction, peer] =
      'external' in c.dst && 'workload' in c.src
        ? [c.src.workload, 'egress' as const, c.dst]
        : 'external' in c.src && 'workload' in c.dst
          ? [c.dst.workload, 'ingress' as const, c.src]
          : [undefined, undefined, undefined];
    // A peer known by name (`fqdn:…`) has no addresses to compare by: it is matched by name.
    if (workload === undefined || peer === undefined || !('external' in peer) || isNamedPeer(peer)) {
      internal.set(pairKey(c), c);
      continue;
    }
    const key = `${direction}\0${workload}`;
    const side = external.get(key) ?? { workload, direction, pieces: [] };
    for (const [lo, hi] of addressesOf(peer.external)) side.pieces.push({ lo, hi, connection: c });
    external.set(key, side);
  }
  for (const side of external.values()) side.pieces.sort((a, b) => (a.lo < b.lo ? -1 : 1));
  return { internal, external };
}

/** The connection to one address range, with the ports and notes of the grant that covers it. */
function toRange(
  piece: Piece | undefined,
  direction: Direction,
  lo: bigint,
  hi: bigint,
): Connection | undefined {
  if (!piece) return undefined;
  const { connection } = piece;
  const range = { external: toCidrs([[lo, hi]]) };
  return direction === 'egress' ? { ...connection, dst: range } : { ...connection, src: range };
}

/**
 * Compares one workload's external grants in one direction address by address: the axis is cut at every
 * boundary of either side, and adjacent pieces with the same ports before and the same after are
 * merged, so blocks written differently but covering the same addresses compare equal.
 */
function addressChanges(
  workload: string,
  direction: Direction,
  before: readonly Piece[],
  after: readonly Piece[],
): ConnectionDelta[] {
  const points = new Set<bigint>([0n, V6_OFFSET]);
  for (const p of [...before, ...after]) {
    points.add(p.lo);
    points.add(p.hi + 1n);
  }
  const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const runs: { lo: bigint; hi: bigint; was?: Piece; now?: Piece }[] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k + 1 < sorted.length; k++) {
    const lo = sorted[k] as bigint;
    const hi = (sorted[k + 1] as bigint) - 1n;
    while (i < before.length && (before[i] as Piece).hi < lo) i++;
    while (j < after.length && (after[j] as Piece).hi < lo) j++;
    const was = before[i] && (before[i] as Piece).lo <= lo ? before[i] : undefined;
    const now = after[j] && (after[j] as Piece).lo <= lo ? after[j] : undefined;
    const wasPorts = was?.connection.ports ?? NO_PORTS;
    const nowPorts = now?.connection.ports ?? NO_PORTS;
    if (equalPorts(wasPorts, nowPorts)) continue;
    const last = runs[runs.length - 1];
    const sameAnswers = (a: Piece | undefined, b: Piece | undefined) =>
      equalPorts(a?.connection.ports ?? NO_PORTS, b?.connection.ports ?? NO_PORTS);
    if (
      last &&
      last.hi + 1n === lo &&
      lo !== V6_OFFSET &&
      sameAnswers(last.was, was) &&
      sameAnswers(last.now, now)
    ) {
      last.hi = hi;
    } else {
      runs.push({ lo, hi, was, now });
    }
  }
  return runs.map(({ lo, hi, was, now }) => {
    const own = workloadKey(workload);
    const key = direction === 'egress' ? `${own}\0${addressKey(lo)}` : `${addressKey(lo)}\0${own}`;
    return {
      key,
      was: toRange(was, direction, lo, hi),
      now: toRange(now, direction, lo, hi),
    };
  });
}

/**
 * The connections that appear, disappear or change ports from one listing to the next. Workload pairs
 * are matched by name; external ends by the addresses they cover, never by how the blocks are written.
 */
export function connectionChanges(
  previousList: readonly Connection[],
  nextList: readonly Connection[],
): ConnectionDelta[] {
  const previous = split(previousList);
  const next = split(nextList);
  const deltas: ConnectionDelta[] = [];
  for (const [key, was] of previous.internal) {
    const now = next.internal.get(key);
    if (!now || !equalPorts(was.ports, now.ports)) deltas.push({ key, was, now });
  }
  for (const [key, now] of next.internal) if (!previous.internal.has(key)) deltas.push({ key, now });
  for (const key of new Set([...previous.external.keys(), ...next.external.keys()])) {
    const side = (previous.external.get(key) ?? next.external.get(key)) as {
      workload: string;
      direction: Direction;
    };
    deltas.push(
      ...addressChanges(
        side.workload,
        side.direction,
        previous.external.get(key)?.pieces ?? [],
        next.external.get(key)?.pieces ?? [],
      ),
    );
  }
  return deltas.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
