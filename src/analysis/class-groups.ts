import type { Engine, PodClass } from '../engine/engine.ts';
import { isEmptyPorts, type PortSet } from '../engine/ports.ts';
import type { Direction, Labels } from '../model/types.ts';
import { cidrsOf } from './connectivity.ts';

/** Pod classes with the same connectivity to everything, described for a person. */
export interface ClassGroup {
  id: string;
  classes: PodClass[];
  namespaces: string[];
  /** Labels every pod of the group carries. */
  commonLabels: Labels;
  pods: number;
  workloads: string[];
}

export type GroupPeer = { group: ClassGroup } | { external: string[] };

export interface GroupConnection {
  src: GroupPeer;
  dst: GroupPeer;
  ports: PortSet;
}

/**
 * Connectivity at the scale where one line per workload pair is more than anyone can read: one line
 * per pair of behaviour groups (see Engine.behaviourKeys), largest groups first.
 */
export function groupConnectivity(engine: Engine): { groups: ClassGroup[]; connections: GroupConnection[] } {
  const keys = engine.behaviourKeys();
  const byKey = new Map<string, PodClass[]>();
  for (const podClass of engine.classes) {
    const key = keys[podClass.id] as string;
    const members = byKey.get(key);
    if (members) members.push(podClass);
    else byKey.set(key, [podClass]);
  }
  const groups = [...byKey.values()]
    .map(describe)
    .sort((a, b) => b.pods - a.pods || a.namespaces[0]?.localeCompare(b.namespaces[0] ?? '') || 0)
    .map((group, i) => ({ ...group, id: `G${i + 1}` }));
  const groupOf = new Map(groups.flatMap((g) => g.classes.map((c) => [c, g] as const)));

  // Classes of a group are alike as source and as destination, so one class pair answers for each
  // pair of groups: walking every class pair instead made tenants that all admit each other quadratic.
  const connections: GroupConnection[] = [];
  for (const from of groups) {
    const src = from.classes[0] as PodClass;
    const done = new Set<ClassGroup>();
    for (const list of engine.destinationCandidates(src)) {
      for (const dstId of list) {
        const dst = engine.classes[dstId] as PodClass;
        const to = groupOf.get(dst) as ClassGroup;
        // A class of one pod reaching itself is that pod reaching itself: always allowed, never
        // listed. Another class of the group, if it has one, answers for the group instead.
        if (done.has(to) || (dst === src && src.pods.length === 1)) continue;
        done.add(to);
        const { ports } = engine.classPorts(src, dst);
        if (!isEmptyPorts(ports)) connections.push({ src: { group: from }, dst: { group: to }, ports });
      }
    }
  }
  const order = (peer: GroupPeer) =>
    'group' in peer ? Number(peer.group.id.slice(1)) : Number.MAX_SAFE_INTEGER;
  connections.sort((a, b) => order(a.src) - order(b.src) || order(a.dst) - order(b.dst));
  for (const group of groups) {
    for (const direction of ['egress', 'ingress'] as Direction[]) {
      // Every class of a group has the same external answer; the first one speaks for all.
      for (const { addresses, ports } of engine.externalPorts(group.classes[0] as PodClass, direction)) {
        const external = { external: cidrsOf(addresses) };
        const self = { group };
        connections.push(
          direction === 'egress' ? { src: self, dst: external, ports } : { src: external, dst: self, ports },
        );
      }
    }
  }
  return { groups, connections };
}

function describe(classes: PodClass[]): Omit<ClassGroup, 'id'> {
  const pods = classes.flatMap((c) => c.pods);
  const first = pods[0]?.labels ?? {};
  const commonLabels = Object.fromEntries(
    Object.entries(first).filter(([key, value]) => pods.every((p) => p.labels[key] === value)),
  );
  return {
    classes,
    namespaces: [...new Set(classes.map((c) => c.namespace))].sort(),
    commonLabels,
    pods: pods.length,
    workloads: [...new Set(pods.map((p) => p.workload))].sort(),
  };
}
