import { type ActivePorts, type AddressPorts, sweepPorts } from '../engine/address-partition.ts';
import { isEmptyPorts, NO_PORTS, portsKey, subtractPorts, unionPorts } from '../engine/ports.ts';

/**
 * The external grants of every rule on one side of one subject, cut at every block edge once, with
 * the grants active on each piece counted per port set. Whether one rule's grant is covered by the
 * others is then read off the pieces inside its own blocks: asking every other rule for every rule made
 * a subject under many ipBlock-heavy policies quadratic.
 */
export class ExternalCover {
  /** The pieces some grant covers, ascending and disjoint. */
  private readonly pieces: { lo: bigint; hi: bigint; active: ActivePorts }[] = [];

  constructor(grants: readonly AddressPorts[]) {
    sweepPorts([grants], (lo, hi, [active]) => this.pieces.push({ lo, hi, active: new Map(active) }));
  }

  /** Whether the other grants give every address and port of `own`, which is one of the grants. */
  coveredByOthers(own: AddressPorts): boolean {
    const ownKey = portsKey(own.ports);
    for (const [lo, hi] of own.addresses) {
      for (let i = this.firstEndingAtOrAfter(lo); i < this.pieces.length; i++) {
        const piece = this.pieces[i] as (typeof this.pieces)[number];
        if (piece.lo > hi) break;
        let others = NO_PORTS;
        for (const [key, { ports, count }] of piece.active) {
          // `own` is active on every piece inside its blocks, once: its blocks are disjoint.
          if (count - (key === ownKey ? 1 : 0) > 0) others = unionPorts(others, ports);
        }
        if (!isEmptyPorts(subtractPorts(own.ports, others))) return false;
      }
    }
    return true;
  }

  private firstEndingAtOrAfter(address: bigint): number {
    let lo = 0;
    let hi = this.pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.pieces[mid] as (typeof this.pieces)[number]).hi < address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
