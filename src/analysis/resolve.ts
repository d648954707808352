import { parseAddress } from '../engine/addresses.ts';
import { type Pod, type Snapshot, type Workload, workloadId } from '../model/types.ts';

/** A name the user gave that matches nothing, or more than one thing. */
export class ResolveError extends Error {
  override name = 'ResolveError';
}

/**
 * A name resolved to pods: `pods` are the pods it names (every pod of the workload, the pods of one of
 * its ReplicaSets, or one pod), `pod` the first of them; `part` is the id of that part when the name
 * picked less than the whole workload (`shop/web-7d9f[ReplicaSet]`, `shop/web-7d9f-x2k4q[Pod]`).
 */
export type Resolved =
  | { kind: 'workload'; workload: Workload; pod: Pod; pods: readonly Pod[]; part?: string; text: string }
  | { kind: 'ip'; ip: string; text: string };

/** A controller between a pod and its workload's name (a Deployment's ReplicaSet), with its pods. */
interface Controller {
  id: string;
  kind: string;
  pods: Pod[];
}

interface EndpointIndex {
  podByAddress: Map<bigint, Pod>;
  workloadById: Map<string, Workload>;
  /** `ns/name` → workloads of that name, one per kind. */
  workloadsByName: Map<string, Workload[]>;
  podByName: Map<string, Pod>;
  workloadsByNamespace: Map<string, Workload[]>;
  /** `ns/name` → controllers of that name that are not themselves a workload's name. */
  controllersByName: Map<string, Controller[]>;
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
    controllersByName: new Map(),
  };
  const controllers = new Map<string, Controller>();
  for (const pod of snapshot.pods) {
    index.podByName.set(`${pod.namespace}/${pod.name}`, pod);
    // Keyed by number: fd00::5 and fd00:0::5 are the same pod.
    for (const ip of pod.ips) {
      const address = parseAddress(ip) as bigint;
      // hostNetwork pods share their node's IP: the first one named in the input answers for it.
      if (!index.podByAddress.has(address)) index.podByAddress.set(address, pod);
    }
    for (const id of pod.controllers ?? []) {
      if (id === pod.workload || index.workloadById.has(id)) continue;
      let controller = controllers.get(id);
      if (!controller) {
        const [, namespace, name, kind] = /^(.*)\/(.*)\[(.*)\]$/.exec(id) as RegExpExecArray;
        controller = { id, kind: kind as string, pods: [] };
        controllers.set(id, controller);
        push(index.controllersByName, `${namespace}/${name}`, controller);
      }
      controller.pods.push(pod);
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
 * Resolves `ns/name`, `ns/name[Kind]` (needed only when a name is ambiguous) of a workload or of a
 * controller between its pods and its name (a ReplicaSet of a Deployment: its pods only), a pod name,
 * or an IP address; an IP that belongs to a pod resolves to that pod.
 */
export function resolveEndpoint(snapshot: Snapshot, text: string): Resolved {
  const index = indexOf(snapshot);
  const address = parseAddress(text);
  if (address !== undefined) {
    const pod = index.podByAddress.get(address);
    const workload = pod && index.workloadById.get(pod.workload);
    return pod && workload ? onePod(workload, pod, text) : { kind: 'ip', ip: text, text };
  }
  if (text.startsWith('fqdn:'))
    throw new ResolveError(
      `"${text}" is a toFQDNs destination, whose addresses are known only at run time: it can only be a destination (explain ns/name ${text}); connectivity lists the workloads that may reach it and on which ports`,
    );
  const match = /^(?:([^/[\]]+)\/)?([^/[\]]+)(?:\[([A-Za-z]+)\])?$/.exec(text);
  if (!match)
    throw new ResolveError(`"${text}" is not a workload (ns/name or ns/name[Kind]) or an IP address`);
  const [, namespace = 'default', name, kind] = match;
  const key = `${namespace}/${name}`;
  const candidates = [
    ...(index.workloadsByName.get(key) ?? []),
    ...(index.controllersByName.get(key) ?? []),
  ].filter((w) => kind === undefined || w.kind === kind);
  if (candidates.length > 1) {
    throw new ResolveError(
      `"${text}" is ambiguous: ${candidates.map((w) => w.id).join(', ')}; add the [Kind]`,
    );
  }
  const [found] = candidates;
  if (found && 'namespace' in found) {
    return { kind: 'workload', workload: found, pod: found.pods[0] as Pod, pods: found.pods, text };
  }
  if (found) return controllerPods(index, found, text);
  const pod = kind === undefined ? index.podByName.get(key) : undefined;
  const owner = pod && index.workloadById.get(pod.workload);
  if (pod && owner) return onePod(owner, pod, text);
  const known = (index.workloadsByNamespace.get(namespace) ?? []).map((w) => w.id);
  const hint = known.length
    ? `; workloads in ${namespace}: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''}`
    : `; namespace "${namespace}" has no workloads`;
  throw new ResolveError(`unknown workload "${text}"${hint}`);
}

function onePod(workload: Workload, pod: Pod, text: string): Resolved {
  const part = workload.pods.length > 1 ? workloadId(pod.namespace, pod.name, 'Pod') : undefined;
  return { kind: 'workload', workload, pod, pods: [pod], ...(part ? { part } : {}), text };
}

/**
 * A controller's pods. Under `--workload-names controller` a Deployment's pods may be the pods of
 * several workloads (its ReplicaSets during a rollout): one of them must then be named.
 */
function controllerPods(index: EndpointIndex, controller: Controller, text: string): Resolved {
  const ids = [...new Set(controller.pods.map((p) => p.workload))];
  if (ids.length > 1) {
    throw new ResolveError(
      `"${text}" (${controller.id}) spans the workloads ${ids.join(', ')}: name one of them`,
    );
  }
  const workload = index.workloadById.get(ids[0] as string) as Workload;
  const whole = controller.pods.length === workload.pods.length;
  const { pods } = controller;
  return {
    kind: 'workload',
    workload,
    pod: pods[0] as Pod,
    pods,
    ...(whole ? {} : { part: controller.id }),
    text,
  };
}

export function resolveWorkloadId(snapshot: Snapshot, text: string): string {
  const resolved = resolveEndpoint(snapshot, text);
  if (resolved.kind !== 'workload') throw new ResolveError(`"${text}" is an address, not a workload`);
  return resolved.workload.id;
}
