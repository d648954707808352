import type { EngineOptions } from '../engine/endpoint.ts';
import { type ClassPairPorts, Engine, type PodClass } from '../engine/engine.ts';
import type { NetworkPolicy, Snapshot } from '../model/types.ts';
import { connectionChanges } from './connection-changes.ts';
import { type Connection, computeConnectivity } from './connectivity.ts';

export interface ConnectivityDelta {
  kind: 'added' | 'removed' | 'changed';
  connection: Connection;
  /** For `changed`: the connection as it was. */
  was?: Connection;
}

/** What a change to the cluster did to connectivity, and whether the engine was updated in place. */
export interface LiveUpdate {
  deltas: ConnectivityDelta[];
  incremental: boolean;
}

const policyKey = (policy: NetworkPolicy) => `${policy.namespace}/${policy.name}`;

/**
 * Connectivity that follows a changing cluster. A change to NetworkPolicies alone updates the engine in
 * place (only the pod classes the policies select are recomputed); anything else (pods, namespaces,
 * cluster policies) rebuilds it, since pod classes themselves may change.
 */
export class LiveConnectivity {
  engine: Engine;
  connections: Connection[];

  constructor(
    snapshot: Snapshot,
    private readonly options?: EngineOptions,
  ) {
    this.engine = new Engine(snapshot, options);
    this.connections = computeConnectivity(this.engine);
  }

  /** `next` is the whole cluster as it now is; `changedKinds` the kinds of the objects that changed. */
  update(next: Snapshot, changedKinds: ReadonlySet<string>): LiveUpdate {
    const incremental =
      [...changedKinds].every((kind) => kind === 'NetworkPolicy') && this.applyPolicies(next);
    if (!incremental) this.engine = new Engine(next, this.options);
    const connections = computeConnectivity(this.engine);
    const deltas = connectionChanges(this.connections, connections).map(
      ({ was, now }): ConnectivityDelta =>
        !was
          ? { kind: 'added', connection: now as Connection }
          : !now
            ? { kind: 'removed', connection: was }
            : { kind: 'changed', connection: now, was },
    );
    this.connections = connections;
    return { deltas, incremental };
  }

  /** Replaces the engine's policies with `next`'s; false when it needs a rebuild. */
  private applyPolicies(next: Snapshot): boolean {
    const same = (a: NetworkPolicy, b: NetworkPolicy) => meaningOf(a) === meaningOf(b);
    return !replacePolicies(this.engine, next.policies, same).rebuild;
  }
}

/** What a step of policy changes did, as updateConnectivity takes it. */
export interface PolicyStep {
  changed: ClassPairPorts[];
  subjects: Set<PodClass>;
}

/**
 * Applies the changes from the engine's policies to `wanted` (matched by namespace and name), one at a
 * time; when one needs a fresh engine (replacePolicy's `rebuild`), every change is undone and `step`
 * holds the subjects they touched.
 */
function replacePolicies(
  engine: Engine,
  wanted: readonly NetworkPolicy[],
  same: (before: NetworkPolicy, after: NetworkPolicy) => boolean,
): { step: PolicyStep; rebuild: boolean } {
  const current = new Map(engine.currentPolicies.map((p) => [policyKey(p), p]));
  const next = new Map(wanted.map((p) => [policyKey(p), p]));
  const step: PolicyStep = { changed: [], subjects: new Set() };
  const applied: [NetworkPolicy | undefined, NetworkPolicy | undefined][] = [];
  for (const key of new Set([...current.keys(), ...next.keys()])) {
    const before = current.get(key);
    const after = next.get(key);
    if (before && after && same(before, after)) continue;
    const result = engine.replacePolicy(before, after);
    if (result.rebuild) {
      for (const [was, now] of applied.reverse()) engine.replacePolicy(now, was);
      return { step, rebuild: true };
    }
    applied.push([before, after]);
    step.changed.push(...result.changed);
    for (const subject of result.subjects) step.subjects.add(subject);
  }
  return { step, rebuild: false };
}

/**
 * Moves `engine` in place to `next`, a snapshot that differs from the engine's own in NetworkPolicies
 * alone (every other part the same objects, as the server's input loader keeps them): every policy that
 * is not the same object is replaced, so that provenance follows the input too. Undefined, with the
 * engine as it was, when a change needs a fresh engine. Going back is following the old snapshot.
 */
export function followPolicies(engine: Engine, next: Snapshot): PolicyStep | undefined {
  const from = engine.snapshot;
  const { step, rebuild } = replacePolicies(engine, next.policies, (a, b) => a === b);
  // Undone changes leave the policies in the order replacePolicy left them: the old input has theirs.
  engine.rebase(rebuild ? from : next, step.subjects);
  return rebuild ? undefined : step;
}

/** A policy's meaning without where it was read, which moves whenever any object before it changes. */
function meaningOf(policy: NetworkPolicy): string {
  return JSON.stringify(policy, (key, value) => (key === 'provenance' ? undefined : value));
}
