/** Which objects differ between two snapshots: what a `change` event lists (docs/serve-api.md). */
import type { Snapshot } from '../model/types.ts';
import type { ObjectRef } from './api-types.ts';

/** Serialises an object without where it was read, which moves whenever anything before it changes. */
function meaning(value: unknown): string {
  return JSON.stringify(value, (key, v) => (key === 'provenance' || key === 'locate' ? undefined : v));
}

type Objects = Map<string, { kind: string; namespace: string; name: string; value: unknown }>;
/** An object as a change lists it: kind, namespace, name, and what its content is compared by. */
type Entry = readonly [string, string, string, unknown];

/** The parts of a snapshot that hold objects, each with its objects. */
const PARTS: readonly (readonly [keyof Snapshot, (snapshot: Snapshot) => Iterable<Entry>])[] = [
  [
    'namespaces',
    (s) =>
      [...s.namespaces.values()]
        .filter((ns) => ns.declared)
        .map((ns) => ['Namespace', '', ns.name, ns.labels]),
  ],
  ['workloads', (s) => s.workloads.map((w) => [w.kind, w.namespace, w.name, w.pods])],
  ['policies', (s) => s.policies.map((p) => ['NetworkPolicy', p.namespace, p.name, p])],
  ['clusterPolicies', (s) => s.clusterPolicies.map((p) => [p.kind, '', p.name, p])],
  ['nodes', (s) => s.nodes.map((n) => ['Node', '', n.name, n])],
  ['services', (s) => s.services.map((o) => [o.kind, o.namespace, o.name, o.object])],
  ['ingresses', (s) => s.ingresses.map((o) => [o.kind, o.namespace, o.name, o.object])],
];

/** The objects of a snapshot, keyed `Kind/namespace/name`, with their content; `skip`: parts left out. */
function objectsOf(snapshot: Snapshot, skip: ReadonlySet<keyof Snapshot> = new Set()): Objects {
  const objects: Objects = new Map();
  for (const [part, entries] of PARTS) {
    if (skip.has(part)) continue;
    for (const [kind, namespace, name, value] of entries(snapshot))
      objects.set(`${kind}/${namespace}/${name}`, { kind, namespace, name, value });
  }
  return objects;
}

/**
 * Objects added, deleted or modified from `before` to `after`, in a stable order. Parts the two share
 * (the same array or map, as the server's input loader keeps what did not change) are not compared.
 */
export function objectChanges(before: Snapshot, after: Snapshot): ObjectRef[] {
  const shared = new Set(PARTS.filter(([part]) => before[part] === after[part]).map(([part]) => part));
  const old = objectsOf(before, shared);
  const now = objectsOf(after, shared);
  const changes: (ObjectRef & { key: string })[] = [];
  for (const [key, o] of now) {
    const was = old.get(key);
    if (!was) changes.push({ key, type: 'ADDED', kind: o.kind, namespace: o.namespace, name: o.name });
    // The same object is unchanged; serialising 4,000 policies to find that costs a quarter second.
    else if (was.value !== o.value && meaning(was.value) !== meaning(o.value))
      changes.push({ key, type: 'MODIFIED', kind: o.kind, namespace: o.namespace, name: o.name });
  }
  for (const [key, o] of old) {
    if (!now.has(key))
      changes.push({ key, type: 'DELETED', kind: o.kind, namespace: o.namespace, name: o.name });
  }
  return changes
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ type, kind, namespace, name }) => ({ type, kind, namespace, name }));
}
