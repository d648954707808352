import { type AddressPorts, partitionUnionAndCommon } from '../engine/address-partition.ts';
import { toCidrs } from '../engine/addresses.ts';
import type { ClassPairPorts, Engine, PodClass } from '../engine/engine.ts';
import type { IntervalSet } from '../engine/intervals.ts';
import {
  equalPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  unionPorts,
} from '../engine/ports.ts';
import type { Direction, Workload } from '../model/types.ts';
import { type L7Filter, l7Filters } from './l7.ts';
import { namedPeers } from './named-peers.ts';

export type ConnectionPeer = { workload: string } | { external: string[] };

export interface Connection {
  src: ConnectionPeer;
  dst: ConnectionPeer;
  /** The union over pod pairs: what some pod of the source may send to some pod of the destination. */
  ports: PortSet;
  /**
   * The ports every pod pair has, present only when it differs from `ports`: the pods of one end are
   * not all treated alike (a relabelled pod, a rollout whose templates differ in what policies select).
   */
  portsAllPods?: PortSet;
  /** Implementation-defined choices the answer rests on, e.g. `ipblock-matches-pods`, `hostNetwork`. */
  dependsOn: string[];
  /** Ports allowed at L4 by rules with L7 rules, whose requests a proxy then filters; absent when none. */
  l7Filtered?: L7Filter[];
}

/** What the class pairs between two workloads allow: some pod pair (`ports`), every one (`common`). */
interface WorkloadPair {
  src: Workload;
  dst: Workload;
  ports: PortSet;
  common: PortSet;
  classPairs: number;
  byIpBlock: boolean;
}

export interface ConnectivityOptions {
  /** Only connections into or out of this workload id. */
  focus?: string;
}

/** Each workload's distinct pod classes, each class's workloads, a number per workload pair; L7 rules. */
interface WorkloadClasses {
  classesOf: Map<Workload, PodClass[]>;
  workloadsOfClass: Map<PodClass, Workload[]>;
  pairKey: (src: string, dst: string) => number;
  l7: boolean;
}

function workloadClasses(engine: Engine): WorkloadClasses {
  const workloadsOfClass = new Map<PodClass, Workload[]>();
  const classesOf = new Map(engine.snapshot.workloads.map((w) => [w, distinctClasses(engine, w)]));
  for (const [workload, classes] of classesOf) {
    for (const podClass of classes) {
      const list = workloadsOfClass.get(podClass);
      if (list) list.push(workload);
      else workloadsOfClass.set(podClass, [workload]);
    }
  }
  const index = new Map(engine.snapshot.workloads.map((w, i) => [w.id, i]));
  const count = engine.snapshot.workloads.length;
  return {
    classesOf,
    workloadsOfClass,
    pairKey: (src, dst) => (index.get(src) as number) * count + (index.get(dst) as number),
    l7: hasL7Rules(engine),
  };
}

/** Folds one allowed class pair into the pair of workloads it stands for. */
function addClassPair(
  pairs: Map<number, WorkloadPair>,
  key: number,
  src: Workload,
  dst: Workload,
  { ports, byIpBlock }: ClassPairPorts,
): void {
  const previous = pairs.get(key);
  if (previous) {
    previous.ports = unionPorts(previous.ports, ports);
    previous.common = intersectPorts(previous.common, ports);
    previous.classPairs++;
    previous.byIpBlock ||= byIpBlock;
  } else {
    pairs.set(key, { src, dst, ports, common: ports, classPairs: 1, byIpBlock });
  }
}

/**
 * Every allowed connection between workloads, and between workloads and external address blocks.
 * A workload is the union of its pods; a workload's connections to itself are left out. Work follows
 * the engine's allowed class pairs, so it grows with the answer, not with the square of the cluster;
 * `portsAllPods` comes from the same class pairs: their intersection, when every class pair of the two
 * workloads is among them.
 */
export function computeConnectivity(engine: Engine, options: ConnectivityOptions = {}): Connection[] {
  const workloads = engine.snapshot.workloads.filter((w) => !options.focus || w.id === options.focus);
  const classes = workloadClasses(engine);
  const { workloadsOfClass, pairKey } = classes;
  const pairs = new Map<number, WorkloadPair>();
  for (const pair of classPairs(engine, workloads, options.focus !== undefined)) {
    for (const srcWorkload of workloadsOfClass.get(pair.src) ?? []) {
      for (const dstWorkload of workloadsOfClass.get(pair.dst) ?? []) {
        if (srcWorkload === dstWorkload) continue;
        if (options.focus && srcWorkload.id !== options.focus && dstWorkload.id !== options.focus) continue;
        addClassPair(pairs, pairKey(srcWorkload.id, dstWorkload.id), srcWorkload, dstWorkload, pair);
      }
    }
  }
  return sortedConnections([
    ...pairConnections(engine, pairs.values(), classes),
    ...workloads.flatMap((workload) => endpointConnections(engine, workload, classes)),
  ]);
}

/**
 * Connectivity after policy changes the engine applied in place (`Engine.replacePolicy`), from the
 * connectivity before them: only the workload pairs whose classes a change touched, and the external
 * connections of the workloads the changed policies select, are computed again. `changed` and
 * `subjects` are the union of what replacePolicy returned for each change. `recomputed` counts the
 * workload pairs and workloads computed again.
 */
export function updateConnectivity(
  engine: Engine,
  previous: readonly Connection[],
  change: { changed: Iterable<ClassPairPorts>; subjects: Iterable<PodClass> },
): { connections: Connection[]; recomputed: number } {
  const classes = workloadClasses(engine);
  const { classesOf, workloadsOfClass, pairKey } = classes;
  const touched = new Map<number, [Workload, Workload]>();
  for (const { src, dst } of change.changed) {
    for (const srcWorkload of workloadsOfClass.get(src) ?? []) {
      for (const dstWorkload of workloadsOfClass.get(dst) ?? []) {
        if (srcWorkload === dstWorkload) continue;
        touched.set(pairKey(srcWorkload.id, dstWorkload.id), [srcWorkload, dstWorkload]);
      }
    }
  }
  const reselected = new Set([...change.subjects].flatMap((c) => workloadsOfClass.get(c) ?? []));
  const reselectedIds = new Set([...reselected].map((w) => w.id));
  const kept = previous.filter((c) => {
    if ('workload' in c.src && 'workload' in c.dst)
      return !touched.has(pairKey(c.src.workload, c.dst.workload));
    const own = 'workload' in c.src ? c.src.workload : (c.dst as { workload: string }).workload;
    return !reselectedIds.has(own);
  });
  const pairs = new Map<number, WorkloadPair>();
  for (const [key, [src, dst]] of touched) {
    for (const srcClass of classesOf.get(src) ?? []) {
      for (const dstClass of classesOf.get(dst) ?? []) {
        const pair = engine.classPorts(srcClass, dstClass);
        if (!isEmptyPorts(pair.ports)) addClassPair(pairs, key, src, dst, pair);
      }
    }
  }
  const connections = sortedConnections([
    ...kept,
    ...pairConnections(engine, pairs.values(), classes),
    ...[...reselected].flatMap((workload) => endpointConnections(engine, workload, classes)),
  ]);
  return { connections, recomputed: touched.size + reselected.size };
}

function pairConnections(
  engine: Engine,
  pairs: Iterable<WorkloadPair>,
  { classesOf, l7 }: WorkloadClasses,
): Connection[] {
  return [...pairs].map(({ src, dst, ports, common, classPairs, byIpBlock }) => {
    const [srcClasses, dstClasses] = [classesOf.get(src) ?? [], classesOf.get(dst) ?? []];
    // A class pair the enumeration did not yield allows nothing, so then no port is common to all pods.
    const all = classPairs === srcClasses.length * dstClasses.length ? common : NO_PORTS;
    const filters = l7
      ? l7Filters(
          engine,
          [
            ...srcClasses.map((subject) => ({
              subject,
              direction: 'egress' as const,
              peer: { classes: dstClasses },
            })),
            ...dstClasses.map((subject) => ({
              subject,
              direction: 'ingress' as const,
              peer: { classes: srcClasses },
            })),
          ],
          ports,
        )
      : [];
    return {
      src: { workload: src.id },
      dst: { workload: dst.id },
      ports,
      ...(equalPorts(all, ports) ? {} : { portsAllPods: all }),
      dependsOn: [...(byIpBlock ? ['ipblock-matches-pods'] : []), ...hostNetworkNote(src, dst)],
      ...(filters.length > 0 ? { l7Filtered: filters } : {}),
    };
  });
}

/** A workload's connections to and from external address blocks, and to peers known by name. */
function endpointConnections(
  engine: Engine,
  workload: Workload,
  { classesOf, l7 }: WorkloadClasses,
): Connection[] {
  const connections: Connection[] = [];
  for (const direction of ['egress', 'ingress'] as Direction[]) {
    // Classes of one workload usually share their external answer (the engine caches it per rules).
    const answers = [
      ...new Set((classesOf.get(workload) ?? []).map((c) => engine.externalPorts(c, direction))),
    ];
    const grants: (AddressPorts & { common?: PortSet })[] =
      answers.length === 1 ? (answers[0] as AddressPorts[]) : partitionUnionAndCommon(answers);
    for (const { addresses, ports, common } of grants) {
      const external = { external: cidrsOf(addresses) };
      const self = { workload: workload.id };
      const [src, dst] = direction === 'egress' ? [self, external] : [external, self];
      const differs = common !== undefined && !equalPorts(common, ports);
      const filters = l7
        ? l7Filters(
            engine,
            (classesOf.get(workload) ?? []).map((subject) => ({ subject, direction, peer: { addresses } })),
            ports,
          )
        : [];
      connections.push({
        src,
        dst,
        ports,
        ...(differs ? { portsAllPods: common } : {}),
        dependsOn: hostNetworkNote(workload),
        ...(filters.length > 0 ? { l7Filtered: filters } : {}),
      });
    }
  }
  connections.push(...namedConnections(engine, workload, classesOf));
  return connections;
}

function sortedConnections(connections: readonly Connection[]): Connection[] {
  const keyed = connections.map((c) => ({ c, key: `${peerSortKey(c.src)}\0${peerSortKey(c.dst)}` }));
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ c }) => c);
}

/**
 * All allowed class pairs, or, for a focus, only those that touch the focused workload's classes; each
 * once, as the count of class pairs per workload pair relies on.
 */
function* classPairs(
  engine: Engine,
  focused: readonly Workload[],
  focus: boolean,
): Generator<ClassPairPorts> {
  if (!focus) {
    yield* engine.allowedClassPairs();
    return;
  }
  const mine = new Set(focused.flatMap((w) => distinctClasses(engine, w)));
  const yielded = new Set<number>();
  for (const podClass of mine) {
    for (const other of engine.classes) {
      for (const pair of [engine.classPorts(podClass, other), engine.classPorts(other, podClass)]) {
        const key = pair.src.id * engine.classes.length + pair.dst.id;
        if (isEmptyPorts(pair.ports) || yielded.has(key)) continue;
        yielded.add(key);
        yield pair;
      }
    }
  }
}

/** Many workloads share an external answer (the engine caches it), so its CIDRs are computed once. */
const cidrCache = new WeakMap<IntervalSet<bigint>, string[]>();
export function cidrsOf(addresses: IntervalSet<bigint>): string[] {
  let cidrs = cidrCache.get(addresses);
  if (!cidrs) {
    cidrs = toCidrs(addresses);
    cidrCache.set(addresses, cidrs);
  }
  return cidrs;
}

/**
 * Egress to peers known by name only (Cilium's toFQDNs), as external peers named `fqdn:<pattern>`: the
 * union over the workload's classes, marked as resting on what the names resolve to.
 */
function namedConnections(
  engine: Engine,
  workload: Workload,
  classesOf: ReadonlyMap<Workload, PodClass[]>,
): Connection[] {
  const byName = new Map<string, { ports: PortSet; l7: Map<string, L7Filter> }>();
  for (const podClass of classesOf.get(workload) ?? []) {
    for (const peer of namedPeers(engine, podClass)) {
      const entry = byName.get(peer.name) ?? { ports: peer.ports, l7: new Map() };
      entry.ports = unionPorts(entry.ports, peer.ports);
      for (const filter of peer.l7Filtered) entry.l7.set(filter.rule.rule, filter);
      byName.set(peer.name, entry);
    }
  }
  return [...byName].map(([name, { ports, l7 }]) => ({
    src: { workload: workload.id },
    dst: { external: [name] },
    ports,
    dependsOn: ['dns-resolution', ...hostNetworkNote(workload)],
    ...(l7.size > 0 ? { l7Filtered: [...l7.values()] } : {}),
  }));
}

/** L7 rules come from Cilium's `toPorts[].rules` only; without them no connection is asked about them. */
function hasL7Rules(engine: Engine): boolean {
  return engine.snapshot.ciliumPolicies.some((p) => [...p.ingress, ...p.egress].some((r) => r.l7 && !r.deny));
}

function distinctClasses(engine: Engine, workload: Workload): PodClass[] {
  return [...new Set(workload.pods.map((pod) => engine.classOf(pod)))];
}

function hostNetworkNote(...workloads: Workload[]): string[] {
  return workloads.some((w) => w.pods.some((p) => p.hostNetwork)) ? ['hostNetwork'] : [];
}

/** An external peer known by name only (`fqdn:*.example.com`), not by addresses. */
export function isNamedPeer(peer: ConnectionPeer): boolean {
  return 'external' in peer && peer.external.every((e) => e.startsWith('fqdn:'));
}

export function peerName(peer: ConnectionPeer): string {
  return 'workload' in peer ? peer.workload : peer.external.join(',');
}

function peerSortKey(peer: ConnectionPeer): string {
  // Workloads before external blocks, so people read the cluster first.
  return 'workload' in peer ? `0${peer.workload}` : `1${peer.external.join(',')}`;
}
