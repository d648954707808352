import { parseAddress, parseCidr } from '../engine/addresses.ts';
import type { Engine } from '../engine/engine.ts';
import { type Connection, type ConnectionPeer, computeConnectivity } from './connectivity.ts';
import { type Responsible, responsibleIn } from './diff.ts';
import type { FlowEdge, FlowPeer, MappedFlows } from './flows.ts';

/**
 * How observed traffic compares with policy:
 * - `gap`: forwarded although policy denies it (enforcement is off, stale or bypassed);
 * - `needed`: dropped, and policy denies it (a flow someone needs, or an attack: either way, review);
 * - `dropped-allowed`: dropped although policy allows it (something else dropped it);
 * - `used`: forwarded and allowed.
 */
export type FlowGroup = 'gap' | 'needed' | 'dropped-allowed' | 'used';

export interface ComparedEdge extends FlowEdge {
  group: FlowGroup;
  /** The PHI workloads at either end. */
  phi: string[];
  /** The rules that decide it under policy, per side. */
  responsible: Responsible;
}

/** An allowed connection that no forwarded flow used in the window: a candidate for tightening. */
export interface UnusedConnection {
  connection: Connection;
  phi: string[];
  responsible: Responsible;
}

export interface FlowComparison {
  edges: ComparedEdge[];
  unused: UnusedConnection[];
  mapped: MappedFlows;
  /** The window the logs cover: earliest and latest record time, when they have times. */
  window?: { from: string; to: string };
}

export function toConnectionPeer(peer: FlowPeer): ConnectionPeer {
  return 'workload' in peer ? peer : { external: [`${peer.ip}/${peer.ip.includes(':') ? 128 : 32}`] };
}

function groupOf(edge: FlowEdge): FlowGroup {
  if (edge.observed === 'forwarded') return edge.policyAllows ? 'used' : 'gap';
  return edge.policyAllows ? 'dropped-allowed' : 'needed';
}

const GROUP_ORDER: Record<FlowGroup, number> = { gap: 0, needed: 1, 'dropped-allowed': 2, used: 3 };

/** Whether an observed end is the connection's end: the same workload, or an address in its blocks. */
function covers(end: ConnectionPeer, peer: FlowPeer): boolean {
  if ('workload' in end) return 'workload' in peer && peer.workload === end.workload;
  if (!('ip' in peer)) return false;
  const address = parseAddress(peer.ip);
  return (
    address !== undefined &&
    end.external.some((block) => {
      const cidr = parseCidr(block);
      return cidr !== undefined && address >= cidr.lo && address <= cidr.hi;
    })
  );
}

/** Sets each observed edge beside the policy's verdict, and finds the allowed connections nothing used. */
export function compareFlows(engine: Engine, mapped: MappedFlows, phi: ReadonlySet<string>): FlowComparison {
  const phiOf = (...peers: (FlowPeer | ConnectionPeer)[]) =>
    peers.flatMap((p) => ('workload' in p && phi.has(p.workload) ? [p.workload] : []));
  const edges = mapped.edges
    .map(
      (edge): ComparedEdge => ({
        ...edge,
        group: groupOf(edge),
        phi: phiOf(edge.src, edge.dst),
        responsible: responsibleIn(engine, toConnectionPeer(edge.src), toConnectionPeer(edge.dst)),
      }),
    )
    .sort(
      (a, b) =>
        GROUP_ORDER[a.group] - GROUP_ORDER[b.group] || Number(b.phi.length > 0) - Number(a.phi.length > 0),
    );
  // Observed forwarded edges by source, so each connection looks only at the edges that can match it.
  const bySource = new Map<string, FlowEdge[]>();
  for (const edge of mapped.edges) {
    if (edge.observed !== 'forwarded') continue;
    const key = 'workload' in edge.src ? edge.src.workload : '';
    const list = bySource.get(key);
    if (list) list.push(edge);
    else bySource.set(key, [edge]);
  }
  const used = (c: Connection) =>
    (bySource.get('workload' in c.src ? c.src.workload : '') ?? []).some(
      (e) => covers(c.src, e.src) && covers(c.dst, e.dst),
    );
  const unused = computeConnectivity(engine)
    .filter((c) => !used(c))
    .map((connection) => ({
      connection,
      phi: phiOf(connection.src, connection.dst),
      responsible: responsibleIn(engine, connection.src, connection.dst),
    }))
    .sort((a, b) => Number(b.phi.length > 0) - Number(a.phi.length > 0));
  const times = mapped.edges
    .flatMap((e) => [e.firstSeen, e.lastSeen])
    .filter((t): t is string => !!t)
    .sort();
  const window =
    times.length > 0 ? { from: times[0] as string, to: times[times.length - 1] as string } : undefined;
  return { edges, unused, mapped, ...(window ? { window } : {}) };
}
