import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import type { Snapshot } from '../model/types.ts';
import { connectionChanges } from './connection-changes.ts';
import { type Connection, computeConnectivity } from './connectivity.ts';
import { type AppliedPolicyChanges, applyPolicyChanges, policyChanges } from './policy-changes.ts';

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
    const changes = policyChanges(this.engine.currentPolicies, next.policies);
    return changes !== undefined && 'applied' in applyPolicyChanges(this.engine, changes);
  }
}

/**
 * Moves `engine` in place to `next`, a snapshot that differs from the engine's own in NetworkPolicies
 * alone (every other part the same objects, as the server's input loader keeps them): every policy that
 * is not the same object is replaced, so that provenance follows the input too. Undefined, with the
 * engine as it was, when a change needs a fresh engine. Going back is following the old snapshot.
 */
export function followPolicies(engine: Engine, next: Snapshot): AppliedPolicyChanges | undefined {
  const changes = policyChanges(engine.currentPolicies, next.policies, (a, b) => a === b);
  if (!changes) return undefined;
  const from = engine.snapshot;
  const result = applyPolicyChanges(engine, changes);
  // Undone changes leave the policies in the order replacePolicy left them: the old input has theirs.
  if ('undone' in result) {
    engine.rebase(from, result.subjects);
    return undefined;
  }
  engine.rebase(next, result.applied.subjects);
  return result.applied;
}
