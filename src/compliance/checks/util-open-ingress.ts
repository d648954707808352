import type { Connection, ConnectionPeer } from '../../analysis/connectivity.ts';
import { ALL_ADDRESSES } from '../../engine/addresses.ts';
import { portsOf } from '../../engine/compile.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { type IntervalSet, intersect, subtract, union } from '../../engine/intervals.ts';
import { ALL_PORTS, intersectPorts, isEmptyPorts, type PortSet } from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  type ClusterPolicy,
  type ClusterRule,
  clusterRuleId,
  type NetworkPolicy,
  type PolicyRule,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import {
  ADDITIVE_NOTE,
  admittedSources,
  admittedText,
  approvedIngressYaml,
  selectorNote,
} from '../remediation/workload-policies.ts';
import type { AuditContext, FindingDraft } from '../types.ts';
import { addressSet, connectionsOf, NON_PUBLIC_ADDRESSES, onePodPerClass } from './support.ts';
import { futureSourceWalk, isIsolated, isolationOf, UNSEEN_NAMESPACE } from './tier-support.ts';
import { isEmptySelector } from './util-scope.ts';

// 009 and 010: who may send to a PHI workload. Addresses come from the computed connectivity; "every
// namespace" is answered by evaluating each admitting rule's selectors on a namespace that does not
// exist yet, since a namespace anyone creates later is exactly what "every namespace" must include.

export const FAMILIES = [
  { name: 'IPv4', range: [ALL_ADDRESSES[0]] as IntervalSet<bigint>, probe: '203.0.113.10' },
  { name: 'IPv6', range: [ALL_ADDRESSES[1]] as IntervalSet<bigint>, probe: '2001:db8::10' },
] as const;

/** Ports open to every public address of a family, from the workload's computed external ingress. */
export function portsOpenToEveryAddress(
  connections: readonly Connection[],
  family: IntervalSet<bigint>,
): PortSet | undefined {
  let covered: IntervalSet<bigint> = [];
  let ports: PortSet = ALL_PORTS;
  for (const connection of connections) {
    if (!('external' in connection.src)) continue;
    const addresses = subtract(intersect(addressSet(connection.src.external), family), NON_PUBLIC_ADDRESSES);
    if (addresses.length === 0) continue;
    covered = union(covered, addresses);
    ports = intersectPorts(ports, connection.ports);
  }
  const complete = subtract(subtract(family, NON_PUBLIC_ADDRESSES), covered).length === 0;
  return complete && !isEmptyPorts(ports) ? ports : undefined;
}

interface BroadPeer {
  /** A NetworkPolicy rule, or an Admin- or Baseline-tier Allow rule. */
  rule: PolicyRule | ClusterRule;
  policy: NetworkPolicy | ClusterPolicy;
  /** Index of the peer in `from`; undefined when the rule has no `from` and admits everyone. */
  peer?: number;
  /** Every pod of every namespace: selectors that select everything, or no `from` at all. */
  allPods: boolean;
  /** The namespace selector excludes some namespaces by label, yet admits a new unlabelled one. */
  denyList: boolean;
  ports: PortSet;
}

/**
 * Rules that admit pods of any namespace, present or future: ingress rules of policies isolating the
 * workload (when pods of a new namespace reach the NetworkPolicy tier at all: an Admin-tier Deny for
 * every pod decides them first), and Admin- or Baseline-tier Allow rules on the way.
 */
export function broadPeers(context: AuditContext, workload: Workload): BroadPeer[] {
  const found: BroadPeer[] = [];
  const seen = new Set<string>();
  const add = (key: string, broad: BroadPeer) => {
    if (seen.has(key)) return;
    seen.add(key);
    found.push(broad);
  };
  for (const pod of onePodPerClass(context, workload)) {
    const side = context.engine.explainSide(pod, { ip: FAMILIES[0].probe }, 'ingress');
    const tiers = futureSourceWalk(context, pod, side.isolatedBy.length > 0);
    for (const broad of tiers.broad) add(`${clusterRuleId(broad.policy, broad.rule)}/${broad.peer}`, broad);
    if (!tiers.reachesNetworkPolicy) continue;
    for (const policy of side.isolatedBy) {
      for (const rule of policy.ingress) {
        const ports = portsOf(rule.ports, context.engine.classOf(pod));
        if (isEmptyPorts(ports)) continue;
        const hits: { peer?: number; allPods: boolean; denyList: boolean }[] = [];
        if (rule.peers === undefined) hits.push({ allPods: true, denyList: false });
        rule.peers?.forEach((peer, index) => {
          if (peer.kind !== 'pods' || !peer.namespaceSelector) return;
          if (!selectorMatches(peer.namespaceSelector, UNSEEN_NAMESPACE)) return;
          const denyList = !isEmptySelector(peer.namespaceSelector);
          const anyPod = !peer.podSelector || isEmptySelector(peer.podSelector);
          hits.push({ peer: index, allPods: anyPod && !denyList, denyList });
        });
        for (const hit of hits)
          add(`${policy.namespace}/${policy.name}/${rule.index}/${hit.peer}`, {
            rule,
            policy,
            ...hit,
            ports,
          });
      }
    }
  }
  return found;
}

export function broadPeerEvidence(broad: BroadPeer): { rule: string; at: string } {
  if ('kind' in broad.policy) {
    const id = clusterRuleId(broad.policy, broad.rule as ClusterRule);
    return { rule: `${id} from[${broad.peer}]`, at: where(broad.rule.provenance) };
  }
  const path = `${broad.policy.namespace}/${broad.policy.name}#spec.ingress[${broad.rule.index}]`;
  return {
    rule: broad.peer === undefined ? path : `${path}.from[${broad.peer}]`,
    at: where(broad.rule.provenance),
  };
}

const openCache = new WeakMap<AuditContext, Map<string, boolean>>();

/** Asked once per workload and audit: 011 asks it for every PHI workload each namespace reaches. */
export function notIngressIsolated(context: AuditContext, workload: Workload): boolean {
  let cache = openCache.get(context);
  if (!cache) {
    cache = new Map();
    openCache.set(context, cache);
  }
  let open = cache.get(workload.id);
  if (open === undefined) {
    open = onePodPerClass(context, workload).some((pod) => !isIsolated(isolationOf(context, pod, 'ingress')));
    cache.set(workload.id, open);
  }
  return open;
}

/** What "not ingress-isolated" means for the workload, for notes. */
export function openIngressNote(context: AuditContext, workload: Workload, tail: string): string {
  const tiers = onePodPerClass(context, workload).some((pod) => {
    const isolation = isolationOf(context, pod, 'ingress');
    return isolation.kind === 'open' && isolation.rules.length > 0;
  });
  return tiers
    ? `not ingress-isolated: no NetworkPolicy selects it for Ingress and the Admin/Baseline-tier rules that select it do not deny by default${tail}`
    : `not ingress-isolated: no policy selects it for Ingress${tail}`;
}

export function fromOtherNamespaces(context: AuditContext, workload: Workload): Connection[] {
  return connectionsOf(context, workload.id, 'ingress').filter(
    (c) => 'workload' in c.src && context.workloadById.get(c.src.workload)?.namespace !== workload.namespace,
  );
}

export function restrictRemediation(
  context: AuditContext,
  workload: Workload,
  what: string,
): FindingDraft['remediation'] {
  const admitted = admittedSources(context, workload);
  return {
    text: `Remove or narrow the rules cited so that ${workload.id} no longer accepts ${what}; ${admittedText(admitted)}. ${ADDITIVE_NOTE}. ${selectorNote(workload)}`,
    yaml: approvedIngressYaml(context, workload, admitted),
  };
}

/** Endpoints standing for one side of a connection: a pod per class, or an address per block. */
export function endpointsOf(context: AuditContext, peer: ConnectionPeer): Endpoint[] {
  if ('workload' in peer) {
    const workload = context.workloadById.get(peer.workload);
    return workload ? onePodPerClass(context, workload).map((pod) => ({ pod })) : [];
  }
  return peer.external.slice(0, 16).map((cidr) => ({ ip: cidr.slice(0, cidr.indexOf('/')) }));
}
