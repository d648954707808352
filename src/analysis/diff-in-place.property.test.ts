import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Engine } from '../engine/engine.ts';
import type { NetworkPolicy, PolicyRule, Provenance, Snapshot } from '../model/types.ts';
import {
  ALL_OPTIONS,
  type Cluster,
  policyArb,
  relabelledClusterArb,
  toSnapshot,
} from '../testing/random-cluster.ts';
import { diffConnectivity, diffInPlace, diffSnapshots, policyChangesBetween } from './diff.ts';

const at = (file: string, line: number): Provenance => ({ file, locate: () => ({ line, column: 1 }) });

/**
 * The snapshot as read from `file`, each policy `shift` lines further down than its place in the list
 * puts it: the two inputs of a diff cite their own files and lines.
 */
function readFrom(snapshot: Snapshot, file: string, shift: number): Snapshot {
  const rules = (rules: readonly PolicyRule[], line: number) =>
    rules.map((rule) => ({ ...rule, provenance: at(file, line + rule.index + 1) }));
  const pods = new Map(snapshot.pods.map((pod, i) => [pod, { ...pod, provenance: at(file, 1000 + i) }]));
  return {
    ...snapshot,
    pods: [...pods.values()],
    workloads: snapshot.workloads.map((w) => ({ ...w, pods: w.pods.map((pod) => pods.get(pod) ?? pod) })),
    policies: snapshot.policies.map((policy, i) => {
      const line = shift + i * 10;
      return {
        ...policy,
        provenance: at(file, line),
        ingress: rules(policy.ingress, line),
        egress: rules(policy.egress, line + 4),
      };
    }),
  };
}

interface Change {
  index: number;
  replacement?: Cluster['policies'][number];
  /** Added as a new policy at `index`, rather than replacing or deleting the policy there. */
  add: boolean;
}

/** The input's policies with the changes made: changed in meaning, deleted, or added in between. */
function changed(cluster: Cluster, base: Snapshot, changes: readonly Change[]): NetworkPolicy[] {
  let policies = [...base.policies];
  for (const [i, change] of changes.entries()) {
    const replacement =
      change.replacement &&
      (toSnapshot({ ...cluster, policies: [change.replacement] }, false).policies[0] as NetworkPolicy);
    const at = policies.length === 0 ? 0 : change.index % (policies.length + (change.add ? 1 : 0));
    if (change.add || policies.length === 0) {
      if (replacement) policies.splice(at, 0, { ...replacement, name: `added-${i}` });
      continue;
    }
    const target = policies[at] as NetworkPolicy;
    policies = policies.flatMap((p, j) =>
      j === at
        ? replacement
          ? [{ ...replacement, namespace: target.namespace, name: target.name }]
          : []
        : [p],
    );
  }
  return policies;
}

test('a diff on one engine with the policy changes applied in place equals the diff of two engines', () => {
  let inPlace = 0;
  const changeArb = fc.record({
    index: fc.nat(),
    replacement: fc.option(policyArb, { nil: undefined, freq: 4 }),
    add: fc.boolean(),
  });
  fc.assert(
    fc.property(
      relabelledClusterArb,
      fc.array(changeArb, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      (generated, changes, phiIndex) => {
        // Admin/Baseline policies take two engines: see policyChangesBetween.
        const cluster = { ...generated, clusterPolicies: [] };
        const base = toSnapshot(cluster, false);
        const before = readFrom(base, 'before.yaml', 1);
        const after = readFrom({ ...base, policies: changed(cluster, base, changes) }, 'after.yaml', 7);
        const phi = new Set(base.workloads.filter((_, i) => i === phiIndex % 3).map((w) => w.id));
        const policyChanges = policyChangesBetween(before, after);
        assert.ok(policyChanges, 'the inputs differ in NetworkPolicies alone');
        for (const options of ALL_OPTIONS) {
          const expected = diffConnectivity(new Engine(before, options), new Engine(after, options), phi);
          const result = diffInPlace(new Engine(before, options), policyChanges, after, phi);
          // A new ipBlock edge that could split pod classes takes a new engine.
          if (result) {
            inPlace++;
            assert.deepEqual(result, expected);
          }
          assert.deepEqual(diffSnapshots(before, after, phi, options), expected);
        }
      },
    ),
    { numRuns: 120 },
  );
  assert.ok(inPlace > 0, 'some diffs were made in place');
});

test('policyChangesBetween: the changed policies when nothing else differs in meaning', () => {
  const withClusterPolicies = relabelledClusterArb.filter((c) => c.clusterPolicies.length > 0);
  const cluster = fc.sample(withClusterPolicies, { seed: 7, numRuns: 1 })[0] as Cluster;
  const base = toSnapshot({ ...cluster, clusterPolicies: [] }, false);
  const before = readFrom(base, 'before.yaml', 1);
  const first = base.policies[0] as NetworkPolicy;
  const edited = { ...first, isolates: { ingress: !first.isolates.ingress, egress: first.isolates.egress } };
  const after = readFrom({ ...base, policies: [edited, ...base.policies.slice(1)] }, 'after.yaml', 3);

  // Read from another file at other lines, the unchanged policies and pods are no change.
  assert.deepEqual(
    policyChangesBetween(before, after)?.map((c) => [c.before?.name, c.after?.provenance.file]),
    [[first.name, 'after.yaml']],
  );
  const relabelled = base.pods.map((pod, i) =>
    i === 0 ? { ...pod, labels: { ...pod.labels, extra: 'x' } } : pod,
  );
  assert.equal(policyChangesBetween(before, { ...after, pods: relabelled }), undefined);
  const { clusterPolicies } = toSnapshot(cluster, false);
  assert.equal(policyChangesBetween(before, { ...after, clusterPolicies }), undefined);
  const twice = { ...after, policies: [...after.policies, edited] };
  assert.equal(policyChangesBetween(before, twice), undefined, 'a policy named twice cannot be paired');
});
