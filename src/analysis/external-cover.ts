import type { AddressPorts } from '../engine/address-partition.ts';
import {
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portsKey,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';

type Counts = ReadonlyMap<string, { ports: PortSet; count: number }>;

/**
 * The external grants of every rule on one side of one subject, cut at every block edge once, with
 * the grants active on each piece counted per port set. Whether one rule's grant is covered by the
 * others is then read off the pieces inside its own blocks: asking every other rule for every rule made
 * a subject under many ipBlock-heavy policies quadratic.
 */
export class ExternalCover {
  /** Where each piece starts, ascending; a piece ends where the next starts. */
  private readonly starts: bigint[] = [];
  private readonly counts: Counts[] = [];

  constructor(grants: readonly AddressPorts[]) {
    const edges: { at: bigint; key: string; ports: PortSet; delta: 1 | -1 }[] = [];
    for (const { addresses, ports } of grants) {
      const key = portsKey(ports);
      for (const [lo, hi] of addresses)
        edges.push({ at: lo, key, ports, delta: 1 }, { at: hi + 1n, key, ports, delta: -1 });
    }
    edges.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const active = new Map<string, { ports: PortSet; count: number }>();
    for (let i = 0; i < edges.length; ) {
      const at = edges[i]?.at as bigint;
      for (; i < edges.length && edges[i]?.at === at; i++) {
        const { key, ports, delta } = edges[i] as (typeof edges)[number];
        const count = (active.get(key)?.count ?? 0) + delta;
        if (count === 0) active.delete(key);
        else active.set(key, { ports, count });
      }
      this.starts.push(at);
      this.counts.push(new Map(active));
    }
  }

  /** Whether the other grants give every address and port of `own`, which is one of the grants. */
  coveredByOthers(own: AddressPorts): boolean {
    const ownKey = portsKey(own.ports);
    for (const [lo, hi] of own.addresses) {
      for (let i = this.pieceAt(lo); i < this.starts.length && (this.starts[i] as bigint) <= hi; i++) {
        let others = NO_PORTS;
        for (const [key, { ports, count }] of this.counts[i] as Counts) {
          // `own` is active on every piece inside its blocks, once: its blocks are disjoint.
          if (count - (key === ownKey ? 1 : 0) > 0) others = unionPorts(others, ports);
        }
        if (!isEmptyPorts(subtractPorts(own.ports, others))) return false;
      }
    }
    return true;
  }

  /** The piece that holds `address` (every address of a grant lies in some piece). */
  private pieceAt(address: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as bigint) <= address) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
