import { type NamingRule, type WorkloadNames, workloadId } from '../model/types.ts';
import { type Fields, isFields, type ObjectReader } from './object-reader.ts';
import { POD_TEMPLATE_PATHS } from './pod-spec.ts';

export interface OwnerRef {
  kind: string;
  name: string;
}

/**
 * The controller ownerReference, validated as the API server does (kind and name are required).
 * Static pods name their Node as controller; a node is not a workload, so they stand alone as Pods.
 */
export function controllerOf(object: Fields, reader?: ObjectReader): OwnerRef | undefined {
  const owners = (object.metadata as Fields | undefined)?.ownerReferences;
  if (!Array.isArray(owners)) return undefined;
  for (const [i, owner] of owners.entries()) {
    if (!isFields(owner) || owner.controller !== true) continue;
    const { kind, name } = owner;
    if (typeof kind !== 'string' || kind === '' || typeof name !== 'string' || name === '') {
      const missing = typeof kind !== 'string' || kind === '' ? 'kind' : 'name';
      reader?.error(['metadata', 'ownerReferences', i, missing], 'required value');
      return undefined;
    }
    return kind === 'Node' ? undefined : { kind, name };
  }
  return undefined;
}

/** Every object of the input, of any kind (an Argo Rollout, an operator's CRD), with its controller. */
export class OwnerIndex {
  private readonly owners = new Map<string, OwnerRef | undefined>();
  /** Chains from an owner the input holds: the pods of one ReplicaSet share it (built once, never changed). */
  private readonly chains = new Map<string, { links: readonly string[]; rule: NamingRule }>();

  add(namespace: string, kind: string, name: string, owner: OwnerRef | undefined): void {
    this.owners.set(workloadId(namespace, name, kind), owner);
  }

  has(id: string): boolean {
    return this.owners.has(id);
  }

  /**
   * The controllers above an object, nearest first, as far as the input shows them: the chain follows
   * the ownerReferences of the objects the input holds, so its last link may be an object that is named
   * by a reference but absent (its own owner is then unknown): the pod's own controller, or a workload
   * kind (a ReplicaSet's Deployment). A ReplicaSet absent from the input is
   * read as the Deployment its name and the pod's `pod-template-hash` label say it belongs to.
   */
  chain(
    namespace: string,
    first: OwnerRef | undefined,
    labels: Fields,
    links: string[] = [],
  ): { links: readonly string[]; rule: NamingRule } {
    if (!first || links.length > 0) return this.walk(namespace, first, labels, links);
    const id = workloadId(namespace, first.name, first.kind);
    const cached = this.chains.get(id);
    if (cached) return cached;
    const chain = this.walk(namespace, first, labels, links);
    // A chain that ends at an absent owner may have read the pod's labels (an absent ReplicaSet's
    // pod-template-hash); one of owners the input holds depends on the first owner alone.
    if (chain.rule === 'object') this.chains.set(id, chain);
    return chain;
  }

  private walk(
    namespace: string,
    first: OwnerRef | undefined,
    labels: Fields,
    links: string[],
  ): { links: string[]; rule: NamingRule } {
    let rule: NamingRule = 'object';
    for (let ref = first; ref; ) {
      const id = workloadId(namespace, ref.name, ref.kind);
      // A cycle cannot be created through the API server, but hand-written input can hold one.
      if (links.includes(id)) break;
      // An absent owner of another kind (an operator's Installation) may be cluster-scoped and own
      // several different workloads: only the Kubernetes workload kinds are named by reference alone.
      if (links.length > 0 && !this.owners.has(id) && !(ref.kind in POD_TEMPLATE_PATHS)) break;
      links.push(id);
      if (!this.owners.has(id)) {
        rule = 'owner-reference';
        const deployment = ref.kind === 'ReplicaSet' ? deploymentByHash(ref.name, labels) : undefined;
        if (deployment) {
          links.push(workloadId(namespace, deployment, 'Deployment'));
          rule = 'pod-template-hash';
        }
        break;
      }
      ref = this.owners.get(id);
    }
    return { links, rule };
  }
}

/**
 * A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>` and labels their pods with that
 * hash: enough to name the Deployment of a `kubectl get deploy,pods` dump, which has no ReplicaSets.
 */
function deploymentByHash(replicaSet: string, labels: Fields): string | undefined {
  const hash = labels['pod-template-hash'];
  if (typeof hash !== 'string' || hash === '' || !replicaSet.endsWith(`-${hash}`)) return undefined;
  return replicaSet.slice(0, -hash.length - 1) || undefined;
}

/** The workload an object with this controller chain belongs to under the chosen naming, and the rule. */
export function nameWorkload(
  self: string,
  chain: { links: readonly string[]; rule: NamingRule },
  names: WorkloadNames,
  index: OwnerIndex,
): { workload: string; rule: NamingRule } {
  const { links, rule } = chain;
  if (names === 'top') return { workload: links[links.length - 1] ?? self, rule };
  const controller = links[0];
  if (controller === undefined) return { workload: self, rule: 'object' };
  return { workload: controller, rule: index.has(controller) ? 'object' : 'owner-reference' };
}
