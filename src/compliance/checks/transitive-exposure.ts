import { type Connection, peerName } from '../../analysis/connectivity.ts';
import { subtract } from '../../engine/intervals.ts';
import type { Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, FindingDraft } from '../types.ts';
import {
  addressSet,
  edgeText,
  locationOf,
  NON_PUBLIC_ADDRESSES,
  onePodPerClass,
  phiWorkloads,
  ruleEvidence,
} from './support.ts';
import { isIsolated, isolationOf } from './tier-support.ts';
import { routesOf, serviceWorkloads } from './util-services.ts';

/** Workloads reachable from outside the cluster, each with how. */
export function entryPoints(context: AuditContext): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  const add = (id: string, why: string) => entries.set(id, [...(entries.get(id) ?? []), why]);
  for (const c of context.connections) {
    if (!('external' in c.src) || !('workload' in c.dst)) continue;
    const outside = subtract(addressSet(c.src.external), NON_PUBLIC_ADDRESSES);
    if (outside.length > 0) add(c.dst.workload, `ingress from public addresses: ${edgeText(c)}`);
  }
  for (const service of context.snapshot.services) {
    const spec = service.object.spec as { type?: unknown; externalIPs?: unknown } | undefined;
    const externalIPs = Array.isArray(spec?.externalIPs) && spec.externalIPs.length > 0;
    if (spec?.type !== 'NodePort' && spec?.type !== 'LoadBalancer' && !externalIPs) continue;
    const how =
      externalIPs && spec?.type !== 'NodePort' && spec?.type !== 'LoadBalancer'
        ? 'externalIPs'
        : String(spec?.type);
    for (const w of serviceWorkloads(context.snapshot.workloads, service))
      add(w.id, `Service ${service.namespace}/${service.name} (${how}) at ${where(service.provenance)}`);
  }
  for (const ingress of context.snapshot.ingresses) {
    for (const name of new Set(routesOf(ingress).map((route) => route.service))) {
      const service = context.snapshot.services.find(
        (s) => s.namespace === ingress.namespace && s.name === name,
      );
      if (!service) continue;
      for (const w of serviceWorkloads(context.snapshot.workloads, service))
        add(
          w.id,
          `backend of Ingress ${ingress.namespace}/${ingress.name} (Service ${name}) at ${where(ingress.provenance)}`,
        );
    }
  }
  return entries;
}

/** Shortest paths from a set of sources, as predecessor links (sources map to undefined). */
function breadthFirst(
  adjacency: ReadonlyMap<string, Connection[]>,
  sources: Iterable<string>,
): Map<string, Connection | undefined> {
  const reached = new Map<string, Connection | undefined>();
  const queue: string[] = [];
  for (const source of sources) {
    reached.set(source, undefined);
    queue.push(source);
  }
  for (let head = 0; head < queue.length; head++) {
    for (const c of adjacency.get(queue[head] as string) ?? []) {
      const next = peerName(c.dst);
      if (reached.has(next)) continue;
      reached.set(next, c);
      queue.push(next);
    }
  }
  return reached;
}

/** Why an edge into `target` has no rule behind it: nothing isolates it, or it fell to the default. */
function unadmittedNote(context: AuditContext, target: Workload): string {
  const isolations = onePodPerClass(context, target).map((pod) => isolationOf(context, pod, 'ingress'));
  if (isolations.some((i) => i.kind === 'open' && i.rules.length > 0))
    return `${target.id} is not ingress-isolated: no NetworkPolicy selects it and the Admin/Baseline-tier rules that select it do not deny by default, so any workload that reaches it may connect`;
  if (isolations.every(isIsolated))
    return `no rule admits the last hop by name: it falls through the Admin/Baseline tiers to the default allow`;
  return `${target.id} is not ingress-isolated: any workload that reaches it may connect`;
}

export const transitiveExposure: Check = {
  id: 'HIPAA-NP-031',
  run(context) {
    const entries = entryPoints(context);
    if (entries.size === 0) return [];
    const adjacency = new Map<string, Connection[]>();
    for (const c of context.connections) {
      if (!('workload' in c.src && 'workload' in c.dst)) continue;
      const list = adjacency.get(c.src.workload);
      if (list) list.push(c);
      else adjacency.set(c.src.workload, [c]);
    }
    const fromAll = breadthFirst(adjacency, entries.keys());
    const drafts: FindingDraft[] = [];
    for (const target of phiWorkloads(context)) {
      // A PHI entry point is directly exposed (009, 021, 022); here only paths of one hop or more count.
      const reached = entries.has(target.id)
        ? breadthFirst(
            adjacency,
            [...entries.keys()].filter((id) => id !== target.id),
          )
        : fromAll;
      if (!reached.has(target.id)) continue;
      const hops: Connection[] = [];
      for (let at = reached.get(target.id); at; at = reached.get(peerName(at.src))) hops.unshift(at);
      const first = hops[0];
      if (!first) continue;
      const entry = peerName(first.src);
      const path = ['outside', entry, ...hops.map((h) => peerName(h.dst))].join(' -> ');
      const last = hops[hops.length - 1] as Connection;
      const previous = context.workloadById.get(peerName(last.src));
      const rules =
        previous?.pods[0] !== undefined
          ? (ruleEvidence(context, target, { pod: previous.pods[0] }, 'ingress') ?? [])
          : [];
      drafts.push({
        status: 'fail',
        objects: [target.id, entry],
        evidence: {
          edges: hops.map(edgeText),
          rules,
          notes: [
            path,
            ...(entries.get(entry) ?? []).map((why) => `${entry} is reachable from outside: ${why}`),
            ...(rules.length === 0 ? [unadmittedNote(context, target)] : []),
          ],
        },
        location: locationOf(target.provenance),
        remediation: {
          text: `Break the path at its last hop: admit into ${target.id} only the workloads that must reach it, and keep ${entry} from reaching PHI except through an approved flow (approvedFlows); accept the finding when the entry point is the sanctioned one.`,
        },
      });
    }
    return drafts;
  },
};
