/** Which objects differ between two snapshots: what a `change` event lists (docs/serve-api.md). */
import type { Snapshot } from '../model/types.ts';

/** The Kubernetes watch vocabulary, which `--live` events use too. */
export type ObjectChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectRef {
  type: ObjectChangeType;
  kind: string;
  namespace: string;
  name: string;
}

/** Serialises an object without where it was read, which moves whenever anything before it changes. */
function meaning(value: unknown): string {
  return JSON.stringify(value, (key, v) => (key === 'provenance' || key === 'locate' ? undefined : v));
}

/** Every object of a snapshot, keyed `Kind/namespace/name`, with its content. */
export function objectsOf(
  snapshot: Snapshot,
): Map<string, { kind: string; namespace: string; name: string; content: string }> {
  const objects = new Map<string, { kind: string; namespace: string; name: string; content: string }>();
  const add = (kind: string, namespace: string, name: string, value: unknown) =>
    objects.set(`${kind}/${namespace}/${name}`, { kind, namespace, name, content: meaning(value) });
  for (const ns of snapshot.namespaces.values()) if (ns.declared) add('Namespace', '', ns.name, ns.labels);
  for (const w of snapshot.workloads) add(w.kind, w.namespace, w.name, w.pods);
  for (const p of snapshot.policies) add('NetworkPolicy', p.namespace, p.name, p);
  for (const p of snapshot.clusterPolicies) add(p.kind, '', p.name, p);
  for (const n of snapshot.nodes) add('Node', '', n.name, n);
  for (const s of [...snapshot.services, ...snapshot.ingresses]) add(s.kind, s.namespace, s.name, s.object);
  return objects;
}

/** Objects added, deleted or modified from `before` to `after`, in a stable order. */
export function objectChanges(before: Snapshot, after: Snapshot): ObjectRef[] {
  const old = objectsOf(before);
  const now = objectsOf(after);
  const changes: (ObjectRef & { key: string })[] = [];
  for (const [key, o] of now) {
    const was = old.get(key);
    if (!was) changes.push({ key, type: 'ADDED', kind: o.kind, namespace: o.namespace, name: o.name });
    else if (was.content !== o.content)
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
