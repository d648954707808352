import { partitionByPorts } from '../engine/address-partition.ts';
import { toCidrs } from '../engine/addresses.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { isEmptyPorts, NO_PORTS, type PortSet, unionPorts } from '../engine/ports.ts';
import type { Direction, Workload } from '../model/types.ts';

export type ConnectionPeer = { workload: string } | { external: string[] };

export interface Connection {
  src: ConnectionPeer;
  dst: ConnectionPeer;
  ports: PortSet;
  /** Implementation-defined choices the answer rests on, e.g. `ipblock-matches-pods`, `hostNetwork`. */
  dependsOn: string[];
}

export interface ConnectivityOptions {
  /** Only connections into or out of this workload id. */
  focus?: string;
}

/**
 * Every allowed connection between workloads, and between workloads and external address blocks.
 * A workload is the union of its pods; a workload's connections to itself are left out.
 */
export function computeConnectivity(engine: Engine, options: ConnectivityOptions = {}): Connection[] {
  const workloads = engine.snapshot.workloads;
  const classesOf = new Map(workloads.map((w) => [w.id, distinctClasses(engine, w)]));
  const involved = (w: Workload) => !options.focus || w.id === options.focus;
  const connections: Connection[] = [];

  for (const src of workloads) {
    for (const dst of workloads) {
      if (src === dst || !(involved(src) || involved(dst))) continue;
      let ports = NO_PORTS;
      let byIpBlock = false;
      for (const s of classesOf.get(src.id) ?? []) {
        for (const d of classesOf.get(dst.id) ?? []) {
          const grant = engine.classPorts(s, d);
          ports = unionPorts(ports, grant.ports);
          byIpBlock ||= grant.byIpBlock;
        }
      }
      if (isEmptyPorts(ports)) continue;
      const dependsOn = [...(byIpBlock ? ['ipblock-matches-pods'] : []), ...hostNetworkNote(src, dst)];
      connections.push({ src: { workload: src.id }, dst: { workload: dst.id }, ports, dependsOn });
    }
  }

  for (const workload of workloads) {
    if (!involved(workload)) continue;
    for (const direction of ['egress', 'ingress'] as Direction[]) {
      const grants = partitionByPorts(
        (classesOf.get(workload.id) ?? []).flatMap((c) => engine.externalPorts(c, direction)),
      );
      for (const { addresses, ports } of grants) {
        const external = { external: toCidrs(addresses) };
        const self = { workload: workload.id };
        const [src, dst] = direction === 'egress' ? [self, external] : [external, self];
        connections.push({ src, dst, ports, dependsOn: hostNetworkNote(workload) });
      }
    }
  }
  return connections.sort(
    (a, b) =>
      peerSortKey(a.src).localeCompare(peerSortKey(b.src)) ||
      peerSortKey(a.dst).localeCompare(peerSortKey(b.dst)),
  );
}

function distinctClasses(engine: Engine, workload: Workload): PodClass[] {
  return [...new Set(workload.pods.map((pod) => engine.classOf(pod)))];
}

function hostNetworkNote(...workloads: Workload[]): string[] {
  return workloads.some((w) => w.pods.some((p) => p.hostNetwork)) ? ['hostNetwork'] : [];
}

export function peerName(peer: ConnectionPeer): string {
  return 'workload' in peer ? peer.workload : peer.external.join(',');
}

function peerSortKey(peer: ConnectionPeer): string {
  // Workloads before external blocks, so people read the cluster first.
  return 'workload' in peer ? `0${peer.workload}` : `1${peer.external.join(',')}`;
}
