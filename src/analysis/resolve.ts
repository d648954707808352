import { parseAddress } from '../engine/addresses.ts';
import type { Pod, Snapshot, Workload } from '../model/types.ts';

/** A name the user gave that matches nothing, or more than one thing. */
export class ResolveError extends Error {
  override name = 'ResolveError';
}

export type Resolved =
  | { kind: 'workload'; workload: Workload; pod: Pod; text: string }
  | { kind: 'ip'; ip: string; text: string };

interface EndpointIndex {
  podByAddress: Map<bigint, Pod>;
  workloadById: Map<string, Workload>;
  /** `ns/name` → workloads of that name, one per kind. */
  workloadsByName: Map<string, Workload[]>;
  podByName: Map<string, Pod>;
  workloadsByNamespace: Map<string, Workload[]>;
}

/** Built once per snapshot: a tests file asks thousands of names of the same cluster. */
const indexes = new WeakMap<Snapshot, EndpointIndex>();

function indexOf(snapshot: Snapshot): EndpointIndex {
  let index = indexes.get(snapshot);
  if (index) return index;
  const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  index = {
    podByAddress: new Map(),
    workloadById: new Map(snapshot.workloads.map((w) => [w.id, w])),
    workloadsByName: new Map(),
    podByName: new Map(),
    workloadsByNamespace: new Map(),
  };
  for (const pod of snapshot.pods) {
    index.podByName.set(`${pod.namespace}/${pod.name}`, pod);
    // Keyed by number: fd00::5 and fd00:0::5 are the same pod.
    for (const ip of pod.ips) {
      const address = parseAddress(ip) as bigint;
      // hostNetwork pods share their node's IP: the first one named in the input answers for it.
      if (!index.podByAddress.has(address)) index.podByAddress.set(address, pod);
    }
  }
  for (const workload of snapshot.workloads) {
    push(index.workloadsByName, `${workload.namespace}/${workload.name}`, workload);
    push(index.workloadsByNamespace, workload.namespace, workload);
  }
  indexes.set(snapshot, index);
  return index;
}

/**
 * Resolves `ns/name`, `ns/name[Kind]` (needed only when a name is ambiguous), a pod name, or an IP
 * address; an IP that belongs to a pod resolves to that pod.
 */
export function resolveEndpoint(snapshot: Snapshot, text: string): Resolved {
  const index = indexOf(snapshot);
  const address = parseAddress(text);
  if (address !== undefined) {
    const pod = index.podByAddress.get(address);
    const workload = pod && index.workloadById.get(pod.workload);
    return pod && workload ? { kind: 'workload', workload, pod, text } : { kind: 'ip', ip: text, text };
  }
  const match = /^(?:([^/[\]]+)\/)?([^/[\]]+)(?:\[([A-Za-z]+)\])?$/.exec(text);
  if (!match)
    throw new ResolveError(`"${text}" is not a workload (ns/name or ns/name[Kind]) or an IP address`);
  const [, namespace = 'default', name, kind] = match;
  const candidates = (index.workloadsByName.get(`${namespace}/${name}`) ?? []).filter(
    (w) => kind === undefined || w.kind === kind,
  );
  if (candidates.length > 1) {
    throw new ResolveError(
      `"${text}" is ambiguous: ${candidates.map((w) => w.id).join(', ')}; add the [Kind]`,
    );
  }
  const [workload] = candidates;
  if (workload) return { kind: 'workload', workload, pod: workload.pods[0] as Pod, text };
  const pod = kind === undefined ? index.podByName.get(`${namespace}/${name}`) : undefined;
  const owner = pod && index.workloadById.get(pod.workload);
  if (pod && owner) return { kind: 'workload', workload: owner, pod, text };
  const known = (index.workloadsByNamespace.get(namespace) ?? []).map((w) => w.id);
  const hint = known.length
    ? `; workloads in ${namespace}: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''}`
    : `; namespace "${namespace}" has no workloads`;
  throw new ResolveError(`unknown workload "${text}"${hint}`);
}

export function resolveWorkloadId(snapshot: Snapshot, text: string): string {
  const resolved = resolveEndpoint(snapshot, text);
  if (resolved.kind !== 'workload') throw new ResolveError(`"${text}" is an address, not a workload`);
  return resolved.workload.id;
}
