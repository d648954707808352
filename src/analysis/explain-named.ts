import { worldAddresses } from '../engine/cilium/adapter.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { type IntervalSet, intersect, subtract, union } from '../engine/intervals.ts';
import { ALL_PORTS, intersectPorts, NO_PORTS, type PortSet, portsKey, unionPorts } from '../engine/ports.ts';
import type { Pod } from '../model/types.ts';
import { type PortQuery, queryCovers } from './explain.ts';
import { explainNamedPeer, type NamedPeerAnswer, type NamedRule } from './named-peers.ts';
import { type Resolved, ResolveError } from './resolve.ts';

/** The answer for the source's pods that every rule treats alike. */
export interface NamedGroup extends NamedPeerAnswer {
  fromPods: readonly Pod[];
  /** Ports open to every address outside the cluster (no isolation, `toEntities: [world]`), so to the name too. */
  everyAddress: PortSet;
  /** What the name may be reached on: the rules naming it, and everyAddress. */
  allowed: PortSet;
  verdict?: boolean;
}

/**
 * Egress to a peer known by name only (Cilium's toFQDNs): the name's addresses are whatever DNS returns
 * at run time, so the answer is the rules that name it, the denies that take every address outside the
 * cluster, and the denies of some addresses that take it only if the name resolves into them.
 */
export interface NamedExplanation {
  from: Extract<Resolved, { kind: 'workload' }>;
  to: string;
  /** One per group of the source's pods with the same answer; the first is the resolved pod's. */
  groups: readonly NamedGroup[];
  query?: PortQuery;
  /** What the answer rests on, as connectivity says it (`dns-resolution`, `hostNetwork`). */
  dependsOn: string[];
  partial: boolean;
}

export function isNamedPeerText(text: string): boolean {
  return text.startsWith('fqdn:');
}

export function explainNamedConnection(
  engine: Engine,
  from: Resolved,
  to: string,
  query?: PortQuery,
): NamedExplanation {
  if (from.kind !== 'workload')
    throw new ResolveError(
      `"${from.text}" is an address outside the cluster: no policy phiwall reads governs its egress to "${to}"`,
    );
  const byClass = new Map<PodClass, Pod[]>();
  // The resolved pod first: its group is the top-level answer, as in explain.ts.
  for (const pod of [from.pod, ...from.pods.filter((p) => p !== from.pod)]) {
    const podClass = engine.classOf(pod);
    byClass.set(podClass, [...(byClass.get(podClass) ?? []), pod]);
  }
  const world = worldAddresses(engine.snapshot, engine.classes);
  const byKey = new Map<string, NamedGroup>();
  for (const [podClass, pods] of byClass) {
    const named = explainNamedPeer(engine, podClass, to);
    const everyAddress = everyAddressPorts(engine, podClass, world);
    const answer = { ...named, everyAddress, allowed: unionPorts(named.ports, everyAddress) };
    const key = answerKey(answer);
    const same = byKey.get(key);
    if (same) same.fromPods = [...same.fromPods, ...pods];
    else byKey.set(key, { ...answer, fromPods: pods, ...verdictOf(answer.allowed, query) });
  }
  const hostNetwork = from.pods.some((p) => p.hostNetwork);
  return {
    from,
    to,
    groups: [...byKey.values()],
    query,
    dependsOn: ['dns-resolution', ...(hostNetwork ? ['hostNetwork'] : [])],
    partial: engine.snapshot.partial,
  };
}

/**
 * The ports a class may send on to every address outside the cluster, so to whatever a name resolves
 * to: those every part of the engine's external answer covering `world` has in common.
 */
function everyAddressPorts(engine: Engine, subject: PodClass, world: IntervalSet<bigint>): PortSet {
  let ports = ALL_PORTS;
  let covered: IntervalSet<bigint> = [];
  for (const part of engine.externalPorts(subject, 'egress')) {
    if (intersect(part.addresses, world).length === 0) continue;
    covered = union(covered, part.addresses);
    ports = intersectPorts(ports, part.ports);
  }
  return subtract(world, covered).length === 0 ? ports : NO_PORTS;
}

function verdictOf(ports: PortSet, query?: PortQuery): { verdict?: boolean } {
  return query ? { verdict: queryCovers({ query }, ports) } : {};
}

function answerKey(answer: NamedPeerAnswer & { everyAddress: PortSet }): string {
  const rules = (list: readonly NamedRule[]) => list.map((r) => `${r.rule.rule}=${portsKey(r.ports)}`);
  return JSON.stringify([
    portsKey(answer.ports),
    portsKey(answer.everyAddress),
    rules(answer.allowedBy),
    rules(answer.deniedBy),
    rules(answer.mayBeDeniedBy),
    answer.l7Filtered.map((f) => `${f.rule.rule}=${portsKey(f.ports)}`),
  ]);
}
