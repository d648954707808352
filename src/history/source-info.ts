import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type ClusterListing, listingDocument } from '../load/live/list.ts';
import type { SourceText } from '../load/sources.ts';
import { sha256 } from './canonical.ts';
import { objectsOfSources, type RecordedInput } from './capture.ts';

function gitOf(paths: readonly string[]): { commit: string; dirty: boolean } | undefined {
  const first = resolve(paths[0] ?? '.');
  let cwd = first;
  try {
    if (!statSync(first).isDirectory()) cwd = dirname(first);
  } catch {
    return undefined;
  }
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--', ...paths.map((p) => resolve(p))]) !== '';
    return { commit, dirty };
  } catch {
    // Not in a repository, or git is not installed: the file hashes are the evidence.
    return undefined;
  }
}

/** Manifests read from files: their hashes, and the git commit when they sit in a repository. */
export function fileSource(paths: readonly string[], sources: readonly SourceText[]): RecordedInput {
  const git = sources.some((s) => s.path === '<stdin>') ? undefined : gitOf(paths);
  const files = sources.map((s) => ({ path: s.path, sha256: s.sha256?.() ?? sha256(s.text) }));
  return {
    source: { type: 'files', files, ...(git ? { git } : {}) },
    objects: objectsOfSources(sources),
  };
}

/** A cluster read live: its context, server and the resourceVersion of each list. */
export function liveSource(listing: ClusterListing): RecordedInput {
  const path = `live:${listing.context}`;
  const items = listingDocument(listing).items as Record<string, unknown>[];
  return {
    source: {
      type: 'live',
      context: listing.context,
      server: listing.server,
      serverVersion: listing.serverVersion,
      ...(listing.namespace ? { namespace: listing.namespace } : {}),
      resourceVersions: Object.fromEntries(
        listing.resources.map((r) => [
          `${r.resource.resource}${r.resource.group ? `.${r.resource.group}` : ''}`,
          r.resourceVersion,
        ]),
      ),
    },
    objects: items.map((object) => ({ path, object })),
  };
}
