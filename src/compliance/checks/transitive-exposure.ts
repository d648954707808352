import { type Connection, peerName } from '../../analysis/connectivity.ts';
import { subtract } from '../../engine/intervals.ts';
import { isEmptyPorts, subtractPorts } from '../../engine/ports.ts';
import type { Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, FindingDraft } from '../types.ts';
import { approvedPorts, namesWorkload } from './approved-flows.ts';
import {
  addressSet,
  edgeText,
  isPhi,
  locationOf,
  NON_PUBLIC_ADDRESSES,
  onePodPerClass,
  phiWorkloads,
  ruleEvidence,
} from './support.ts';
import { isIsolated, isolationOf } from './tier-support.ts';
import { workloadIsolation } from './util-attribution.ts';
import { nodeExposure, routesOf, serviceWorkloads } from './util-services.ts';

/**
 * Workloads reachable from outside the cluster, each with how: selected by a NodePort, LoadBalancer or
 * externalIPs Service, behind an Ingress, or admitted from public addresses by a rule that names them.
 * A workload that is merely not isolated is not one: pod addresses are not routed from outside unless
 * something publishes them, and 009 reports PHI workloads open to every address.
 */
export function entryPoints(context: AuditContext): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  const add = (id: string, why: string) => entries.set(id, [...(entries.get(id) ?? []), why]);
  for (const c of context.connections) {
    if (!('external' in c.src) || !('workload' in c.dst)) continue;
    if (subtract(addressSet(c.src.external), NON_PUBLIC_ADDRESSES).length === 0) continue;
    const workload = context.workloadById.get(c.dst.workload);
    if (workload && workloadIsolation(context, workload, 'ingress').isolated)
      add(c.dst.workload, `a rule admits public addresses: ${edgeText(c)}`);
  }
  for (const service of context.snapshot.services) {
    const how = nodeExposure(service);
    if (how === undefined) continue;
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

interface Step {
  connection: Connection;
  /** The key of the state it came from. */
  from: string;
}

/**
 * Shortest paths from the sources along connections in the direction they are opened, in two layers:
 * before and after the first hop into PHI that is not sanctioned (approved or accepted). A target counts
 * only when reached in the second layer: a path whose every hop into PHI is approved is the design.
 */
function breadthFirst(
  context: AuditContext,
  adjacency: ReadonlyMap<string, Connection[]>,
  sources: Iterable<string>,
): Map<string, Step | undefined> {
  const reached = new Map<string, Step | undefined>();
  const queue: string[] = [];
  for (const source of sources) {
    reached.set(`0\0${source}`, undefined);
    queue.push(`0\0${source}`);
  }
  for (let head = 0; head < queue.length; head++) {
    const key = queue[head] as string;
    const layer = key[0];
    const node = key.slice(2);
    for (const c of adjacency.get(node) ?? []) {
      const next = peerName(c.dst);
      const unsanctioned = layer === '1' || (isPhi(context, next) && !sanctioned(context, c));
      const nextKey = `${unsanctioned ? 1 : 0}\0${next}`;
      if (reached.has(nextKey)) continue;
      reached.set(nextKey, { connection: c, from: key });
      queue.push(nextKey);
    }
  }
  return reached;
}

/** A hop into PHI that approvedFlows cover on all its ports, or that an unexpired 012 acceptance names. */
function sanctioned(context: AuditContext, c: Connection): boolean {
  if (!('workload' in c.src && 'workload' in c.dst)) return false;
  const src = context.workloadById.get(c.src.workload);
  const dst = context.workloadById.get(c.dst.workload);
  if (!src || !dst) return false;
  if (isEmptyPorts(subtractPorts(c.ports, approvedPorts(context.config, src, dst)))) return true;
  return context.config.accept.some(
    (a) =>
      (a.check === 'HIPAA-NP-012' || a.check === 'HIPAA-NP-031') &&
      a.until >= context.today &&
      (namesWorkload(a.object, src) || (a.check === 'HIPAA-NP-012' && namesWorkload(a.object, dst))),
  );
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
    const fromAll = breadthFirst(context, adjacency, entries.keys());
    const drafts: FindingDraft[] = [];
    for (const target of phiWorkloads(context)) {
      // A PHI entry point is directly exposed (009, 021, 022); here only paths of one hop or more count.
      const reached = entries.has(target.id)
        ? breadthFirst(
            context,
            adjacency,
            [...entries.keys()].filter((id) => id !== target.id),
          )
        : fromAll;
      const hops: Connection[] = [];
      for (let at = reached.get(`1\0${target.id}`); at; at = reached.get(at.from))
        hops.unshift(at.connection);
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
