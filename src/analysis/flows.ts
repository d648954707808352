import type { Engine } from '../engine/engine.ts';
import type { ObservedFlow, ObservedVerdict } from '../model/flows.ts';
import type { Pod, Protocol } from '../model/types.ts';

/** An end of an observed flow after mapping: a workload of the snapshot, or an address outside its pods. */
export type FlowPeer = { workload: string } | { ip: string };

/** Distinct observed traffic: one source, destination, protocol, port and observed verdict, with counts. */
export interface FlowEdge {
  src: FlowPeer;
  dst: FlowPeer;
  protocol: Protocol;
  port: number;
  observed: ObservedVerdict;
  /** Connections the log records for this edge (one Hubble connection of many events, a Calico aggregate of several). */
  count: number;
  /** The log's records behind them. */
  events: number;
  /** Whether the policies (all tiers) allow it, evaluated on the pods the log named. */
  policyAllows: boolean;
  firstSeen?: string;
  lastSeen?: string;
  /** The first record of it, for evidence. */
  at: { file: string; line: number };
  /** What Cilium knew of the end that is an address: its DNS names, its reserved identity (Hubble). */
  address?: { names?: readonly string[]; identity?: string };
}

/** Flows whose ends could not be matched to the snapshot, counted per reason, with the first of each. */
export interface UnmappedFlows {
  count: number;
  reasons: Record<string, { count: number; example: { file: string; line: number } }>;
}

export interface MappedFlows {
  edges: FlowEdge[];
  unmapped: UnmappedFlows;
  /** The log records read, and the connections they stand for. */
  records: number;
  flows: number;
}

/** Where to find the pod of an end: by name, by IP, by the owner name the log gives. */
class PodIndex {
  private readonly byName = new Map<string, Pod>();
  private readonly byIp = new Map<string, Pod>();
  private readonly byNamespace = new Map<string, Pod[]>();

  constructor(pods: readonly Pod[]) {
    for (const pod of pods) {
      this.byName.set(`${pod.namespace}/${pod.name}`, pod);
      for (const ip of pod.ips) this.byIp.set(ip, pod);
      const list = this.byNamespace.get(pod.namespace);
      if (list) list.push(pod);
      else this.byNamespace.set(pod.namespace, [pod]);
    }
  }

  named(namespace: string, name: string): Pod | undefined {
    return this.byName.get(`${namespace}/${name}`);
  }

  withIp(ip: string): Pod | undefined {
    return this.byIp.get(ip);
  }

  /**
   * A pod of the workload a pod name belongs to by Kubernetes' naming (`ehr-api-7c9d8-x2k4p` of
   * `ehr-api`, `records-db-0` of `records-db`), for manifests that hold the workload but not its pods.
   */
  ofPodName(namespace: string, podName: string): Pod | undefined {
    let best: Pod | undefined;
    for (const pod of this.byNamespace.get(namespace) ?? []) {
      const owner = workloadName(pod);
      if (podName.startsWith(`${owner}-`) && owner.length > (best ? workloadName(best).length : 0))
        best = pod;
    }
    return best;
  }

  /**
   * A pod of the workload the log names: `frontend` (Hubble's owner), `frontend-7d9f8c` (a ReplicaSet) or
   * `frontend-7d9f8c-*` (Calico's aggregate), matched against workload names and pod names.
   */
  ofWorkload(namespace: string, name: string): Pod | undefined {
    const pods = this.byNamespace.get(namespace) ?? [];
    const prefix = name.endsWith('*') ? name.slice(0, -1) : undefined;
    return (
      pods.find((p) => workloadName(p) === name) ??
      pods.find((p) => (prefix !== undefined ? p.name.startsWith(prefix) : p.name.startsWith(`${name}-`)))
    );
  }
}

function workloadName(pod: Pod): string {
  const at = pod.workload.indexOf('/');
  return pod.workload.slice(at + 1, pod.workload.lastIndexOf('['));
}

type Resolved = { pod: Pod } | { ip: string } | { unmapped: string };

/**
 * Maps flow records to the snapshot's workloads and gathers them into distinct edges, each with the
 * policy's verdict next to the observed one. Feed it records as a reader streams them; only distinct
 * edges are kept, so memory grows with the variety of traffic, not with the size of the log.
 */
export class FlowMapper {
  private readonly pods: PodIndex;
  private readonly edges = new Map<string, FlowEdge>();
  private readonly unmapped: UnmappedFlows = { count: 0, reasons: {} };
  private records = 0;
  private flows = 0;

  constructor(private readonly engine: Engine) {
    this.pods = new PodIndex(engine.snapshot.pods);
  }

  add(flow: ObservedFlow): void {
    this.records += flow.events;
    this.flows += flow.count;
    const src = this.resolve(flow.src);
    const dst = this.resolve(flow.dst);
    const missing = 'unmapped' in src ? src.unmapped : 'unmapped' in dst ? dst.unmapped : undefined;
    if (missing !== undefined || ('ip' in src && 'ip' in dst)) {
      this.miss(missing ?? 'neither end is a pod of the snapshot', flow);
      return;
    }
    const srcPeer: FlowPeer =
      'pod' in src ? { workload: src.pod.workload } : { ip: (src as { ip: string }).ip };
    const dstPeer: FlowPeer =
      'pod' in dst ? { workload: dst.pod.workload } : { ip: (dst as { ip: string }).ip };
    const key = JSON.stringify([srcPeer, dstPeer, flow.protocol, flow.port, flow.verdict]);
    const existing = this.edges.get(key);
    const end = 'ip' in src ? flow.src : flow.dst;
    const address =
      ('ip' in src || 'ip' in dst) && (end.names || end.identity)
        ? { ...(end.names && { names: end.names }), ...(end.identity && { identity: end.identity }) }
        : undefined;
    const last = flow.until ?? flow.time;
    if (existing) {
      existing.count += flow.count;
      existing.events += flow.events;
      if (flow.time && (!existing.firstSeen || flow.time < existing.firstSeen))
        existing.firstSeen = flow.time;
      if (last && (!existing.lastSeen || last > existing.lastSeen)) existing.lastSeen = last;
      if (address && !existing.address) existing.address = address;
      return;
    }
    this.edges.set(key, {
      src: srcPeer,
      dst: dstPeer,
      protocol: flow.protocol,
      port: flow.port,
      observed: flow.verdict,
      count: flow.count,
      events: flow.events,
      policyAllows: this.allows(
        src as { pod: Pod } | { ip: string },
        dst as { pod: Pod } | { ip: string },
        flow,
      ),
      ...(flow.time ? { firstSeen: flow.time, lastSeen: last } : {}),
      at: { file: flow.file, line: flow.line },
      ...(address && { address }),
    });
  }

  result(): MappedFlows {
    const edges = [...this.edges.values()].sort((a, b) => edgeSortKey(a).localeCompare(edgeSortKey(b)));
    return {
      edges,
      unmapped: this.unmapped,
      records: this.records,
      flows: this.flows,
    };
  }

  private resolve(end: ObservedFlow['src']): Resolved {
    if (end.namespace && end.pod) {
      const pod = this.pods.named(end.namespace, end.pod) ?? this.pods.ofPodName(end.namespace, end.pod);
      if (pod) return { pod };
    }
    if (end.ip) {
      const pod = this.pods.withIp(end.ip);
      if (pod) return { pod };
    }
    if (end.namespace && end.workload) {
      const pod = this.pods.ofWorkload(end.namespace, end.workload);
      if (pod) return { pod };
    }
    if (end.namespace && (end.pod || end.workload)) {
      return { unmapped: `a pod the snapshot does not hold (${end.namespace}/${end.pod ?? end.workload})` };
    }
    if (end.ip) return { ip: end.ip };
    return { unmapped: 'an end with neither an IP nor a known pod' };
  }

  private allows(
    src: { pod: Pod } | { ip: string },
    dst: { pod: Pod } | { ip: string },
    flow: ObservedFlow,
  ): boolean {
    const allowed =
      'pod' in src && 'pod' in dst
        ? this.engine.portsBetween(src.pod, dst.pod)
        : 'pod' in src
          ? this.engine.explainSide(src.pod, { ip: (dst as { ip: string }).ip }, 'egress').ports
          : this.engine.explainSide((dst as { pod: Pod }).pod, { ip: (src as { ip: string }).ip }, 'ingress')
              .ports;
    return allowed[flow.protocol].some(([lo, hi]) => flow.port >= lo && flow.port <= hi);
  }

  private miss(reason: string, flow: ObservedFlow): void {
    this.unmapped.count += flow.count;
    this.unmapped.reasons[reason] ??= { count: 0, example: { file: flow.file, line: flow.line } };
    (this.unmapped.reasons[reason] as { count: number }).count += flow.count;
  }
}

export function peerLabel(peer: FlowPeer): string {
  return 'workload' in peer ? peer.workload : peer.ip;
}

function edgeSortKey(edge: FlowEdge): string {
  return `${peerLabel(edge.src)}\0${peerLabel(edge.dst)}\0${edge.protocol}\0${String(edge.port).padStart(5, '0')}\0${edge.observed}`;
}
