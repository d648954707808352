import { parseAddress } from '../engine/addresses.ts';
import type { Pod, Snapshot, Workload } from '../model/types.ts';

/** A name the user gave that matches nothing, or more than one thing. */
export class ResolveError extends Error {
  override name = 'ResolveError';
}

export type Resolved =
  | { kind: 'workload'; workload: Workload; pod: Pod; text: string }
  | { kind: 'ip'; ip: string; text: string };

/**
 * Resolves `ns/name`, `ns/name[Kind]` (needed only when a name is ambiguous), a pod name, or an IP
 * address; an IP that belongs to a pod resolves to that pod.
 */
export function resolveEndpoint(snapshot: Snapshot, text: string): Resolved {
  const address = parseAddress(text);
  if (address !== undefined) {
    // Compared as numbers: fd00::5 and fd00:0::5 are the same pod.
    const pod = snapshot.pods.find((p) => p.ips.some((ip) => parseAddress(ip) === address));
    const workload = pod && snapshot.workloads.find((w) => w.id === pod.workload);
    return pod && workload ? { kind: 'workload', workload, pod, text } : { kind: 'ip', ip: text, text };
  }
  const match = /^(?:([^/[\]]+)\/)?([^/[\]]+)(?:\[([A-Za-z]+)\])?$/.exec(text);
  if (!match)
    throw new ResolveError(`"${text}" is not a workload (ns/name or ns/name[Kind]) or an IP address`);
  const [, namespace = 'default', name, kind] = match;
  const candidates = snapshot.workloads.filter(
    (w) => w.namespace === namespace && w.name === name && (kind === undefined || w.kind === kind),
  );
  if (candidates.length > 1) {
    throw new ResolveError(
      `"${text}" is ambiguous: ${candidates.map((w) => w.id).join(', ')}; add the [Kind]`,
    );
  }
  const [workload] = candidates;
  if (workload) return { kind: 'workload', workload, pod: workload.pods[0] as Pod, text };
  const pod =
    kind === undefined ? snapshot.pods.find((p) => p.namespace === namespace && p.name === name) : undefined;
  const owner = pod && snapshot.workloads.find((w) => w.id === pod.workload);
  if (pod && owner) return { kind: 'workload', workload: owner, pod, text };
  const known = snapshot.workloads.filter((w) => w.namespace === namespace).map((w) => w.id);
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
