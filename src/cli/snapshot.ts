import { Command, Option } from '@commander-js/extra-typings';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { listingDocument } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { type CliIo, UsageError, writeOutputFile } from './io.ts';
import { listLive } from './shared-options.ts';

/**
 * `phiwall snapshot --live`: what the cluster holds, as one JSON List with when, where and from which
 * server it was read, so that an audit can be re-run later on exactly what was seen.
 */
export function snapshotCommand(io: CliIo) {
  return new Command('snapshot')
    .description(
      'Save what a live cluster holds (the objects phiwall reads) as one JSON List, with the time, server version and context, as evidence',
    )
    .addOption(new Option('--live', 'read the running cluster of the kubeconfig context (required)'))
    .addOption(
      new Option(
        '--kubeconfig <file>',
        "the kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)",
      ),
    )
    .addOption(new Option('--context <name>', 'the kubeconfig context (default: its current context)'))
    .addOption(
      new Option(
        '-n, --namespace <name>',
        'read only this namespace (cluster-scoped objects and DaemonSets are still read)',
      ),
    )
    .addOption(new Option('-A, --all-namespaces', 'read every namespace (the default)'))
    .option('-o, --output <file>', 'write the snapshot here instead of standard output')
    .addHelpText(
      'after',
      `
Examples:
  phiwall snapshot --live -o evidence/cluster-2026-11-27.json
  phiwall audit evidence/cluster-2026-11-27.json --format html --output audit.html
  phiwall diff --live evidence/cluster-2026-11-27.json`,
    )
    .action(async (options) => {
      if (!options.live)
        throw new UsageError('snapshot reads a running cluster: add --live (and --context to choose one)');
      const listing = await listLive(options, io);
      // Read back as any other input would be, so a snapshot that phiwall itself cannot load is never written.
      const snapshot = snapshotOfListing(listing);
      for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
      const text = `${JSON.stringify(listingDocument(listing), null, 1)}\n`;
      if (options.output) {
        writeOutputFile(io, options.output, text);
        const count = listing.resources.reduce((n, r) => n + r.items.length, 0);
        io.stderr(
          `phiwall: wrote ${count} objects from ${listing.server} (context "${listing.context}", ${listing.serverVersion}) to ${options.output}\n`,
        );
      } else io.stdout(text);
    });
}
