import { LiveConnectivity } from '../analysis/live-connectivity.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { liveSource } from '../history/source-info.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { connect } from '../load/live/connection.ts';
import { type ClusterListing, listCluster } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { ClusterWatch } from '../load/live/watch.ts';
import type { Snapshot } from '../model/types.ts';
import { renderConnectivity } from '../report/connectivity.ts';
import { renderLiveUpdate, type WatchFormat } from '../report/live-changes.ts';
import type { Recorder } from './history.ts';
import { type CliIo, untilStopped } from './io.ts';
import type { InputOptions } from './shared-options.ts';

/**
 * `connectivity --live --watch`: the connectivity once, then, as the cluster changes, the objects that
 * changed and what that did to connectivity, until stopped.
 */
export async function watchConnectivity(
  options: InputOptions & { format: WatchFormat },
  semantics: EngineOptions,
  io: CliIo,
  timing: { batchMs?: number; retryMs?: number } = {},
  recorder?: Recorder,
): Promise<void> {
  const connection = await connect({ kubeconfig: options.kubeconfig, context: options.context });
  const listing = await listCluster(connection, {
    namespace: options.namespace,
    progress: (text) => io.stderr(`phiwall: ${text}\n`),
  });
  const snapshot = snapshotOfListing(listing, {
    skipInvalid: options.skipInvalid,
    workloadNames: options.workloadNames,
  });
  for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
  const live = new LiveConnectivity(snapshot, semantics);
  let failure: Error | undefined;
  let fail: () => void = () => {};
  const failed = new Promise<void>((resolve) => {
    fail = resolve;
  });
  // An audit trail with a hole in it is worse than a stopped watch: a failed write ends it.
  const record = (listed: ClusterListing, recorded: Snapshot) =>
    recorder?.record(liveSource(listed), recorded, live).catch((error: Error) => {
      failure ??= error;
      fail();
    });
  record(listing, snapshot);
  io.stdout(
    renderConnectivity(
      { snapshot, connections: live.connections, options: { ...semantics } },
      options.format,
    ),
  );
  io.stderr(`phiwall: watching ${listing.server} (context "${listing.context}") for changes; Ctrl-C stops\n`);
  const watch = new ClusterWatch(
    connection,
    listing,
    {
      onChange(changes, current) {
        // A cluster that stops being loadable (it cannot, short of a bug) keeps the last good answer.
        let next: ReturnType<typeof snapshotOfListing>;
        try {
          next = snapshotOfListing(current, { skipInvalid: true, workloadNames: options.workloadNames });
        } catch (error) {
          io.stderr(
            `phiwall: the cluster's objects could not be read: ${error instanceof Error ? error.message : String(error)}\n`,
          );
          return;
        }
        const update = live.update(next, new Set(changes.map((c) => c.kind)));
        io.stdout(renderLiveUpdate(new Date(), changes, update, options.format));
        record(current, next);
      },
      onStatus: (text) => io.stderr(`phiwall: ${text}\n`),
      onFatal(error) {
        failure = error;
        fail();
      },
    },
    timing,
  );
  watch.start();
  await Promise.race([untilStopped(io), failed]);
  watch.stop();
  await recorder?.close();
  if (failure) throw failure;
}
