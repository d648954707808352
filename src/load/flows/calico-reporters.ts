import type { ObservedFlow } from '../../model/flows.ts';
import { type CalicoPart, ignored, type RecordResult } from './records.ts';

/**
 * Calico logs a connection between two pods twice: the source's node (reporter `src`, after egress
 * policy) and the destination's node (reporter `dst`, after ingress policy), each in its own aggregate
 * record. The records of one pair of ends, protocol and port are gathered over the file, per reporter
 * and action, and read once (`finish`). Memory grows with the variety of traffic, as the aggregates do.
 */
export const CALICO_COUNTING =
  'Calico: num_flows per record; a connection reported by both nodes is counted once, from the destination’s report';

export const BOTH_REPORTERS = "reported by the source's node too (the destination's report counts)";
export const SOURCE_ONLY =
  "allowed leaving its source towards a pod that never reported it (the destination's node is not in the log)";

type Group = `${'src' | 'dst' | 'any'} ${ObservedFlow['verdict']}`;

export class CalicoReporters {
  private readonly pairs = new Map<string, Map<Group, ObservedFlow>>();

  constructor(private readonly emit: (result: RecordResult, line: number) => void) {}

  add(flow: ObservedFlow, part: CalicoPart): void {
    let groups = this.pairs.get(part.key);
    if (groups === undefined) {
      groups = new Map();
      this.pairs.set(part.key, groups);
    }
    const group: Group = `${part.reporter ?? 'any'} ${flow.verdict}`;
    const known = groups.get(group);
    if (known === undefined) {
      groups.set(group, flow);
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
   * Per pair of ends: the destination's reports count; the source's denies count too (the packets never
   * left); the source's allows count only when the destination reported nothing and is not a pod (the
   * internet, a host, a network set). An allow towards a pod that never reported it is counted apart.
   */
  end(): void {
    for (const groups of this.pairs.values()) {
      const fromDst = groups.has('dst forwarded') || groups.has('dst dropped');
      for (const [group, flow] of [...groups].sort(([, a], [, b]) => a.line - b.line)) {
        if (group === 'src forwarded' && fromDst) {
          this.emit(ignored(BOTH_REPORTERS, flow.events), flow.line);
        } else if (group === 'src forwarded' && flow.dst.namespace !== undefined) {
          this.emit(ignored(SOURCE_ONLY, flow.events), flow.line);
        } else {
          this.emit({ kind: 'flow', flow }, flow.line);
        }
      }
    }
    this.pairs.clear();
  }
}
