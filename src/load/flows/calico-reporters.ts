import type { ObservedFlow } from '../../model/flows.ts';
import { type CalicoPart, ignored, type RecordResult } from './records.ts';

/**
 * Calico logs a connection between two pods twice: the source's node (reporter `src`, after egress
 * policy) and the destination's node (reporter `dst`, after ingress policy), each in its own aggregate
 * record. The destination's records and the source's denies (the packets never left) are read as they
 * come; the source's allows wait for the end of the file, gathered per pair of ends, protocol and port,
 * and count only where the destination reported nothing (`end`). Memory grows with the variety of
 * traffic, as the aggregates do.
 */
export const CALICO_COUNTING =
  'Calico: num_flows per record; a connection reported by both nodes is counted once, from the destination’s report';

export const BOTH_REPORTERS = "reported by the source's node too (the destination's report counts)";
export const SOURCE_ONLY =
  "allowed leaving its source towards a pod that never reported it (the destination's node is not in the log)";

export class CalicoReporters {
  private readonly reportedByDst = new Set<string>();
  private readonly sourceAllows = new Map<string, ObservedFlow>();

  constructor(private readonly emit: (result: RecordResult, line: number) => void) {}

  add(flow: ObservedFlow, part: CalicoPart): void {
    if (part.reporter === 'dst') this.reportedByDst.add(part.key);
    if (part.reporter !== 'src' || flow.verdict !== 'forwarded') {
      this.emit({ kind: 'flow', flow }, flow.line);
      return;
    }
    const known = this.sourceAllows.get(part.key);
    if (known === undefined) {
      this.sourceAllows.set(part.key, flow);
      return;
    }
    known.count += flow.count;
    known.events += flow.events;
    const last = flow.until ?? flow.time;
    if (last !== undefined && (known.until ?? known.time ?? '') < last) known.until = last;
    if (flow.time !== undefined && (known.time === undefined || flow.time < known.time))
      known.time = flow.time;
  }

  /**
   * The source's allows: a duplicate where the destination reported the pair; towards a pod that never
   * reported it, counted apart (the destination may have denied it); towards the internet, a host or a
   * network set, the only report there is.
   */
  end(): void {
    for (const [key, flow] of this.sourceAllows) {
      if (this.reportedByDst.has(key)) this.emit(ignored(BOTH_REPORTERS, flow.events), flow.line);
      else if (flow.dst.namespace !== undefined) this.emit(ignored(SOURCE_ONLY, flow.events), flow.line);
      else this.emit({ kind: 'flow', flow }, flow.line);
    }
    this.sourceAllows.clear();
    this.reportedByDst.clear();
  }
}
