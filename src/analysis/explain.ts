import type { Endpoint } from '../engine/endpoint.ts';
import type { Engine, PodClass, SideExplanation } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { ALL_PORTS, intersectPorts, type PortSet, portsKey } from '../engine/ports.ts';
import type { Pod, Protocol } from '../model/types.ts';
import type { Resolved } from './resolve.ts';

export interface PortQuery {
  protocol: Protocol;
  port?: number;
}

/** The answer for pod pairs that every policy treats alike. */
export interface PairAnswer {
  /** A pod reaching itself is always allowed. */
  samePod: boolean;
  /** Undefined when the source is an external address, which no NetworkPolicy isolates. */
  egress?: SideExplanation;
  /** Undefined when the destination is an external address. */
  ingress?: SideExplanation;
  allowed: PortSet;
  /** The answer to the query, when one was asked. */
  verdict?: boolean;
}

/** A group of pod pairs with one answer: these pods of the source to these pods of the destination. */
export interface PairGroup extends PairAnswer {
  /** The source's pods in this group; undefined for an external address. */
  fromPods?: readonly Pod[];
  toPods?: readonly Pod[];
}

/**
 * The top-level answer is the first group's; `groups` has more than one entry when the pods of an end
 * are not all treated alike (a relabelled pod, a rollout's two templates), one per group of pod pairs
 * with the same verdict and the same deciding policies.
 */
export interface Explanation extends PairAnswer {
  from: Resolved;
  to: Resolved;
  groups: readonly PairGroup[];
  query?: PortQuery;
  /** The snapshot left invalid objects out (`--skip-invalid`), so the answer may be incomplete. */
  partial: boolean;
}

export function toEndpoint(resolved: Resolved): Endpoint {
  return resolved.kind === 'ip' ? { ip: resolved.ip } : { pod: resolved.pod };
}

/** Whether ports answer the query (any port of its protocol when it names none); without one, any do. */
export function queryCovers(e: { query?: PortQuery }, ports: PortSet): boolean {
  if (!e.query) return true;
  const allowed = ports[e.query.protocol];
  return e.query.port === undefined ? allowed.length > 0 : contains(allowed, e.query.port);
}

/** For a query: whether every group allows it (`all`), none does (`none`), or only some (`some`). */
export function queryOutcome(e: {
  query?: PortQuery;
  groups: readonly { verdict?: boolean }[];
}): 'all' | 'none' | 'some' | undefined {
  if (!e.query) return undefined;
  const allowing = e.groups.filter((g) => g.verdict).length;
  return allowing === e.groups.length ? 'all' : allowing === 0 ? 'none' : 'some';
}

export function explainConnection(
  engine: Engine,
  from: Resolved,
  to: Resolved,
  query?: PortQuery,
): Explanation {
  const groups = pairGroups(engine, from, to, query);
  const [first] = groups as [PairGroup];
  const { fromPods: _from, toPods: _to, ...answer } = first;
  return { ...answer, from, to, groups, query, partial: engine.snapshot.partial };
}

function answerFor(engine: Engine, from: Endpoint, to: Endpoint, query?: PortQuery): PairAnswer {
  const samePod = 'pod' in from && 'pod' in to && from.pod === to.pod;
  const egress = 'pod' in from && !samePod ? engine.explainSide(from.pod, to, 'egress') : undefined;
  const ingress = 'pod' in to && !samePod ? engine.explainSide(to.pod, from, 'ingress') : undefined;
  const allowed = samePod
    ? ALL_PORTS
    : intersectPorts(egress?.ports ?? ALL_PORTS, ingress?.ports ?? ALL_PORTS);
  const verdict = query ? queryCovers({ query }, allowed) : undefined;
  return { samePod, egress, ingress, allowed, verdict };
}

/** The pods of an end split by pod class; an address is one part without pods. */
function partsOf(engine: Engine, end: Resolved): { pods?: Pod[] }[] {
  if (end.kind === 'ip') return [{}];
  const byClass = new Map<PodClass, Pod[]>();
  // The resolved pod first: its group is the top-level answer, as before pods could differ.
  for (const pod of [end.pod, ...end.pods.filter((p) => p !== end.pod)]) {
    const podClass = engine.classOf(pod);
    const pods = byClass.get(podClass);
    if (pods) pods.push(pod);
    else byClass.set(podClass, [pod]);
  }
  return [...byClass.values()].map((pods) => ({ pods }));
}

/**
 * One answer per pair of pod classes (pods of a class get the same answer), then pairs with the same
 * answer and the same deciding rules merged: source parts per destination part, then destination parts.
 */
function pairGroups(engine: Engine, from: Resolved, to: Resolved, query?: PortQuery): PairGroup[] {
  const sources = partsOf(engine, from);
  const destinations = partsOf(engine, to);
  const merged: (PairGroup & { key: string })[] = [];
  for (const dst of destinations) {
    const column: (PairGroup & { key: string })[] = [];
    for (const src of sources) {
      const [a, b] = representatives(src.pods, dst.pods);
      const answer = answerFor(
        engine,
        a ? { pod: a } : toEndpoint(from),
        b ? { pod: b } : toEndpoint(to),
        query,
      );
      const key = answerKey(answer);
      const same = column.find((g) => g.key === key);
      if (same?.fromPods && src.pods) same.fromPods = [...same.fromPods, ...src.pods];
      else column.push({ ...answer, fromPods: src.pods, toPods: dst.pods, key });
    }
    for (const group of column) {
      const same = merged.find((g) => g.key === group.key && samePods(g.fromPods, group.fromPods));
      if (same?.toPods && group.toPods) same.toPods = [...same.toPods, ...group.toPods];
      else merged.push(group);
    }
  }
  return merged.map(({ key: _key, ...group }) => group);
}

/** A pod of each part, two different pods when the parts allow it (the same pod is a pair of its own). */
function representatives(a?: readonly Pod[], b?: readonly Pod[]): [Pod | undefined, Pod | undefined] {
  const src = a?.[0];
  const dst = b?.find((p) => p !== src) ?? b?.[0];
  const other = src === dst ? a?.find((p) => p !== dst) : undefined;
  return [other ?? src, dst];
}

function samePods(a?: readonly Pod[], b?: readonly Pod[]): boolean {
  return (
    a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((p, i) => p === b[i]))
  );
}

/** What decides an answer: its ports and the policies and rules on each side. */
function answerKey(answer: PairAnswer): string {
  if (answer.samePod) return 'self';
  const side = (s?: SideExplanation) =>
    s
      ? [
          s.hostNetwork,
          s.isolatedBy.map((p) => `${p.namespace}/${p.name}`).join(','),
          s.admittedBy.map(
            (a) => `${a.policy.namespace}/${a.policy.name}#${a.rule.index}=${portsKey(a.ports)}`,
          ),
          s.tiers.map(
            (t) =>
              `${t.tier}:${t.action}:${t.rule ? `${t.rule.policy.name}#${t.rule.rule.direction}${t.rule.rule.index}` : ''}=${portsKey(t.ports)}`,
          ),
        ].join(';')
      : '-';
  return `${portsKey(answer.allowed)}|${side(answer.egress)}|${side(answer.ingress)}`;
}

/**
 * What sets a group's pods apart from the other pods of their end: the labels all of them have and
 * some other pod has not (`quarantine=true`), and the keys none of them has and some other pod has
 * (`!quarantine`). Empty when their labels are alike (they differ in named ports, addresses or hostNetwork).
 */
export function labelsApart(group: readonly Pod[], all: readonly Pod[]): string[] {
  const others = all.filter((p) => !group.includes(p));
  const [first] = group;
  if (!first || others.length === 0) return [];
  const held = Object.entries(first.labels)
    .filter(([key, value]) => group.every((p) => p.labels[key] === value))
    .filter(([key, value]) => others.some((p) => p.labels[key] !== value))
    .map(([key, value]) => `${key}=${value}`);
  const missing = [...new Set(others.flatMap((p) => Object.keys(p.labels)))]
    .filter((key) => group.every((p) => !(key in p.labels)))
    .map((key) => `!${key}`);
  return [...held, ...missing].sort();
}
