import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.ts';
import type { NetworkPolicy } from '../model/types.ts';
import {
  ALL_OPTIONS,
  type Cluster,
  policyArb,
  relabelledClusterArb,
  toSnapshot,
} from '../testing/random-cluster.ts';
import { computeConnectivity, updateConnectivity } from './connectivity.ts';

/**
 * Policies changed in place (replaced, deleted or added, one after another), then connectivity
 * updated from what it was: the same as a new engine's over the changed policies.
 */
function checkUpdate(
  cluster: Cluster,
  changes: { index: number; replacement?: Cluster['policies'][number]; add: boolean }[],
) {
  for (const options of ALL_OPTIONS) {
    const snapshot = toSnapshot(cluster, false);
    const engine = new Engine(snapshot, options);
    const before = computeConnectivity(engine);
    let policies: NetworkPolicy[] = [...snapshot.policies];
    const changed = [];
    const subjects = [];
    let rebuild = false;
    for (const [i, change] of changes.entries()) {
      const replacement = change.replacement
        ? (toSnapshot({ ...cluster, policies: [change.replacement] }, false).policies[0] as NetworkPolicy)
        : undefined;
      // Named apart from the input's, so an added policy is a new one.
      const after = replacement && { ...replacement, name: `changed-${i}` };
      const target =
        change.add || policies.length === 0 ? undefined : policies[change.index % policies.length];
      if (!target && !after) continue;
      const result = engine.replacePolicy(target, after);
      if (result.rebuild) {
        rebuild = true;
        break;
      }
      changed.push(...result.changed);
      subjects.push(...result.subjects);
      policies = target
        ? policies.flatMap((p) => (p === target ? (after ? [after] : []) : [p]))
        : [...policies, after as NetworkPolicy];
    }
    // A new ipBlock edge that could split pod classes takes a new engine, not an update.
    if (rebuild) continue;
    const fresh = computeConnectivity(new Engine({ ...snapshot, policies }, options));
    assert.deepEqual(updateConnectivity(engine, before, { changed, subjects }).connections, fresh);
  }
}

test('connectivity updated after policy changes in place equals a new engine’s', () => {
  const changeArb = fc.record({
    index: fc.nat(),
    replacement: fc.option(policyArb, { nil: undefined }),
    add: fc.boolean(),
  });
  fc.assert(
    fc.property(relabelledClusterArb, fc.array(changeArb, { minLength: 1, maxLength: 3 }), checkUpdate),
    { numRuns: 150 },
  );
});
