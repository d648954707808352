import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.ts';
import type { ClusterPolicy, Snapshot } from '../model/types.ts';
import { ALL_OPTIONS, clusterArb, toSnapshot } from '../testing/random-cluster.ts';
import { lintSnapshot } from './lint.ts';

/**
 * A BaselineAdminNetworkPolicy without rules changes no answer, but it sends the half-open flow check
 * (PW-LINT-005) down its other path: the engine's explanation of each peer pair, instead of the ports
 * the check caches per isolating policy and per named-ports shape. The two must report the same.
 */
const INERT_BASELINE: ClusterPolicy = {
  kind: 'BaselineAdminNetworkPolicy',
  name: 'default',
  tier: 'Baseline',
  subject: { namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
  ingress: [],
  egress: [],
  provenance: { file: 'baseline.yaml', locate: () => ({ line: 1, column: 1 }) },
};

function halfOpen(snapshot: Snapshot, options: (typeof ALL_OPTIONS)[number]): string[] {
  const { problems } = lintSnapshot(snapshot, new Engine(snapshot, options));
  return problems.filter((p) => p.rule === 'PW-LINT-005').map((p) => `${p.path}: ${p.message}`);
}

test('half-open flows found from the cached grants equal those the engine explains pair by pair', () => {
  fc.assert(
    fc.property(clusterArb, (cluster) => {
      const snapshot = toSnapshot({ ...cluster, clusterPolicies: [] }, false);
      const tiered = { ...snapshot, clusterPolicies: [INERT_BASELINE] };
      for (const options of ALL_OPTIONS) {
        assert.deepEqual(halfOpen(snapshot, options), halfOpen(tiered, options));
      }
    }),
    { numRuns: 600 },
  );
});
