import type { Snapshot } from '../../model/types.ts';
import { buildSnapshot, type LoadOptions } from '../snapshot.ts';
import { type ClusterListing, listingDocument } from './list.ts';

/**
 * A listing read as the loader reads files: one JSON List, indented so that positions in warnings
 * (`live:CONTEXT:LINE:COLUMN`) point somewhere a `phiwall snapshot` of the same objects also has.
 */
export function snapshotOfListing(
  listing: ClusterListing,
  options: Pick<LoadOptions, 'skipInvalid' | 'workloadNames'> = {},
): Snapshot {
  const text = JSON.stringify(listingDocument(listing), null, 1);
  return buildSnapshot([{ path: `live:${listing.context}`, text }], {
    skipInvalid: options.skipInvalid,
    workloadNames: options.workloadNames,
  });
}
