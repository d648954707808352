import type { ClassPairPorts, Engine, PodClass } from '../engine/engine.ts';
import type { NetworkPolicy } from '../model/types.ts';

/** One NetworkPolicy added (no `before`), deleted (no `after`) or changed in meaning. */
export interface PolicyChange {
  before?: NetworkPolicy;
  after?: NetworkPolicy;
}

const policyKey = (policy: NetworkPolicy) => `${policy.namespace}/${policy.name}`;

/**
 * Whether two values mean the same, whatever their provenance: where an object was read moves whenever
 * any object before it changes, and a second input is read from another file.
 */
export function sameMeaning(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameMeaning(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [key, value] of a) if (!b.has(key) || !sameMeaning(value, b.get(key))) return false;
    return true;
  }
  if (a instanceof Set) return b instanceof Set && a.size === b.size && [...a].every((value) => b.has(value));
  if (b instanceof Map || b instanceof Set) return false;
  // An optional field left undefined means what an absent one does, as in JSON.
  const [one, other] = [a as Record<string, unknown>, b as Record<string, unknown>];
  let fields = 0;
  for (const key in one) {
    if (key === 'provenance' || one[key] === undefined) continue;
    if (!sameMeaning(one[key], other[key])) return false;
    fields++;
  }
  for (const key in other) if (key !== 'provenance' && other[key] !== undefined) fields--;
  return fields === 0;
}

/**
 * The changes that turn one list of NetworkPolicies into another, matched by namespace and name;
 * undefined when either list names a policy twice, which matching by name cannot pair. `same` tells
 * which pairs need no change: by default those that mean the same wherever they were read.
 */
export function policyChanges(
  current: readonly NetworkPolicy[],
  wanted: readonly NetworkPolicy[],
  same: (before: NetworkPolicy, after: NetworkPolicy) => boolean = sameMeaning,
): PolicyChange[] | undefined {
  const byKey = (policies: readonly NetworkPolicy[]) => {
    const map = new Map(policies.map((p) => [policyKey(p), p]));
    return map.size === policies.length ? map : undefined;
  };
  const [was, now] = [byKey(current), byKey(wanted)];
  if (!was || !now) return undefined;
  const changes: PolicyChange[] = [];
  for (const key of new Set([...was.keys(), ...now.keys()])) {
    const before = was.get(key);
    const after = now.get(key);
    if (!before || !after || !same(before, after)) changes.push({ before, after });
  }
  return changes;
}

/** Policy changes applied to an engine in place: what updateConnectivity takes, and their undoing. */
export interface AppliedPolicyChanges {
  changed: ClassPairPorts[];
  subjects: Set<PodClass>;
  /** Class pairs replacePolicy weighed, what the changes cost. */
  evaluated: number;
  /** Undoes the changes, last first. */
  revert(): void;
}

/**
 * Applies `changes` to the engine in place, one at a time (Engine.replacePolicy). When one needs a new
 * engine (`rebuild`: an ipBlock edge that could split pod classes), or `enough` says the cost so far is
 * too much, the changes made are undone: the answer says why, and which subjects they touched.
 */
export function applyPolicyChanges(
  engine: Engine,
  changes: readonly PolicyChange[],
  enough: (evaluated: number) => boolean = () => false,
): { applied: AppliedPolicyChanges } | { undone: 'rebuild' | 'too costly'; subjects: Set<PodClass> } {
  const done: PolicyChange[] = [];
  const applied: AppliedPolicyChanges = {
    changed: [],
    subjects: new Set(),
    evaluated: 0,
    revert: () => {
      for (const { before, after } of done.reverse()) engine.replacePolicy(after, before);
    },
  };
  for (const change of changes) {
    const result = engine.replacePolicy(change.before, change.after);
    if (result.rebuild) {
      applied.revert();
      return { undone: 'rebuild', subjects: applied.subjects };
    }
    done.push(change);
    applied.evaluated += result.evaluated;
    applied.changed.push(...result.changed);
    for (const subject of result.subjects) applied.subjects.add(subject);
    if (enough(applied.evaluated)) {
      applied.revert();
      return { undone: 'too costly', subjects: applied.subjects };
    }
  }
  return { applied };
}
