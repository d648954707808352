/**
 * The input of `phiwall serve` as plain data: what a worker thread is sent to load a generation itself
 * (a Snapshot holds closures and cannot cross a thread).
 */
import type { ClusterListing } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot, WorkloadNames } from '../model/types.ts';

export type InputSpec =
  | {
      kind: 'files';
      paths: string[];
      namespace?: string;
      skipInvalid?: boolean;
      workloadNames?: WorkloadNames;
    }
  | { kind: 'listing'; listing: ClusterListing; skipInvalid?: boolean; workloadNames?: WorkloadNames };

/** Reads the input; throws InputError for input that cannot be loaded. */
export function loadInput(input: InputSpec): Snapshot {
  const { skipInvalid, workloadNames } = input;
  if (input.kind === 'listing') return snapshotOfListing(input.listing, { skipInvalid, workloadNames });
  return loadSnapshot(input.paths, { namespace: input.namespace, skipInvalid, workloadNames });
}
