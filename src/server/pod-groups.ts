/**
 * The drill-down below a workload: when its pods are not all treated alike (a relabelled pod, a
 * rollout's two templates), one group per pod class, what sets it apart, and the workload's
 * connections as that group has them where the groups differ.
 */
import { cidrsOf } from '../analysis/connectivity.ts';
import { labelsApart } from '../analysis/explain.ts';
import type { PodClass } from '../engine/engine.ts';
import { formatPorts, isEmptyPorts, NO_PORTS, type PortSet, unionPorts } from '../engine/ports.ts';
import type { Pod, Workload } from '../model/types.ts';
import type { PodGroup } from './api-types.ts';
import { edgeId } from './graph.ts';
import type { View } from './state.ts';

function classesOf(view: View, workload: Workload): Map<PodClass, Pod[]> {
  const byClass = new Map<PodClass, Pod[]>();
  for (const pod of workload.pods) {
    const podClass = view.engine.classOf(pod);
    const pods = byClass.get(podClass);
    if (pods) pods.push(pod);
    else byClass.set(podClass, [pod]);
  }
  return byClass;
}

/**
 * The workload's pod groups: its pod classes, those that have the same connections taken together;
 * undefined when that leaves one group (the common case: every pod treated alike).
 */
export function podGroups(view: View, workload: Workload): PodGroup[] | undefined {
  const classes = classesOf(view, workload);
  if (classes.size < 2) return undefined;
  const { engine } = view;
  const byId = new Map(view.snapshot.workloads.map((w) => [w.id, w]));
  // Only the connections between workloads whose pods disagree; the others are the same for every group.
  const differing = view.connections.flatMap((c) => {
    if (!c.portsAllPods || !('workload' in c.src) || !('workload' in c.dst)) return [];
    const outgoing = c.src.workload === workload.id;
    if (!outgoing && c.dst.workload !== workload.id) return [];
    const peer = byId.get(outgoing ? c.dst.workload : c.src.workload);
    if (!peer) return [];
    return [{ outgoing, peer, peerClasses: [...classesOf(view, peer).keys()] }];
  });
  const groups = new Map<string, Omit<PodGroup, 'apart'>>();
  for (const [podClass, pods] of classes) {
    const edges = differing.map(({ outgoing, peer, peerClasses }) => {
      let ports: PortSet = NO_PORTS;
      for (const other of peerClasses) {
        const pair = outgoing ? engine.classPorts(podClass, other) : engine.classPorts(other, podClass);
        ports = unionPorts(ports, pair.ports);
      }
      const [source, target] = outgoing ? [workload.id, peer.id] : [peer.id, workload.id];
      return {
        id: edgeId(source, target),
        source,
        target,
        ports: isEmptyPorts(ports) ? 'none' : formatPorts(ports),
      };
    });
    const outside = (['egress', 'ingress'] as const).flatMap((direction) =>
      engine.externalPorts(podClass, direction).map(({ addresses, ports }) => ({
        direction,
        cidrs: cidrsOf(addresses),
        ports: formatPorts(ports),
      })),
    );
    // Classes apart only in what no connection of the map shows (a label some selector reads, to no
    // effect here) are one group.
    const key = JSON.stringify([edges, outside]);
    const group = groups.get(key);
    if (group) group.pods.push(...pods.map((p) => p.name));
    else groups.set(key, { pods: pods.map((p) => p.name), edges, outside });
  }
  if (groups.size < 2) return undefined;
  const podsByName = new Map(workload.pods.map((p) => [p.name, p]));
  return [...groups.values()].map((group) => ({
    pods: group.pods.sort(),
    apart: labelsApart(
      group.pods.map((name) => podsByName.get(name) as Pod),
      workload.pods,
    ),
    edges: group.edges,
    outside: group.outside,
  }));
}
