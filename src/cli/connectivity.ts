import { Command, Option } from '@commander-js/extra-typings';
import { groupConnectivity } from '../analysis/class-groups.ts';
import { computeConnectivity } from '../analysis/connectivity.ts';
import { resolveWorkloadId } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { GROUPED_FORMATS, renderGrouped } from '../report/class-groups.ts';
import { CONNECTIVITY_FORMATS, renderConnectivity } from '../report/connectivity.ts';
import { openRecorder } from './history.ts';
import { type CliIo, UsageError } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions, workloadNamesOf } from './shared-options.ts';
import { watchConnectivity } from './watch.ts';

/** Above this many workloads a line per workload pair stops being readable. */
export const GROUPING_THRESHOLD = 500;

export function connectivityCommand(io: CliIo) {
  return withInputOptions(
    new Command('connectivity').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description('List every allowed connection between workloads and external address blocks')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(CONNECTIVITY_FORMATS)
        .default('text' as const),
    )
    .option(
      '--watch',
      'with --live: keep watching the cluster and print what changes in connectivity as it happens',
    )
    .option('--record', 'with --watch: append a history entry for the start and for each change batch')
    .option(
      '--db <file|url>',
      'with --record: the history (SQLite file or postgres://…; default: phiwall-history.db)',
    )
    .option('-c, --config <file>', 'with --record: audit configuration, to record findings too')
    .option('--cluster <name>', "with --record: the cluster's name in the history (default: the context)")
    .option('--sign-key <file>', 'with --record: sign each entry with this Ed25519 private key (PEM)')
    .option('--focus <workload>', 'only connections into or out of this workload (ns/name or ns/name[Kind])')
    .addOption(
      new Option(
        '--group-by <unit>',
        `workload: a line per workload pair; class: a line per group of pods that every policy treats alike (default for text and md above ${GROUPING_THRESHOLD} workloads)`,
      ).choices(['workload', 'class'] as const),
    )
    .addHelpText(
      'after',
      `
Examples:
  phiwall connectivity examples/clinic
  helm template ./chart | phiwall connectivity - --format json
  kubectl get pods,deploy,netpol,ns -A -o json | phiwall connectivity - --focus records/api
  phiwall connectivity cluster-dump.json --group-by class
  phiwall connectivity --live --watch --context prod
  phiwall connectivity --live --watch --record --db postgres://history.internal/phiwall`,
    )
    .action(async (paths, options, command) => {
      if (options.watch) {
        if (!options.live) throw new UsageError('--watch follows a running cluster: add --live');
        if (options.format !== 'text' && options.format !== 'json') {
          throw new UsageError(`--watch writes text or json, not ${options.format}`);
        }
        if (paths.length > 0)
          throw new UsageError(`--live reads the cluster: leave out the paths (${paths.join(' ')})`);
        const semantics = engineOptionsOf(command, undefined, io);
        const recorder = options.record
          ? await openRecorder({ ...options, workloadNames: workloadNamesOf(command) }, semantics, io)
          : undefined;
        await watchConnectivity({ ...options, format: options.format }, semantics, io, {}, recorder);
        return;
      }
      if (options.record)
        throw new UsageError(
          '--record follows a cluster with --live --watch; phiwall history record records once',
        );
      const snapshot = await loadInputs(paths, options, io);
      const semantics = engineOptionsOf(command, snapshot, io);
      const engine = new Engine(snapshot, semantics);
      const focus = options.focus ? resolveWorkloadId(snapshot, options.focus) : undefined;
      const readable = options.format === 'text' || options.format === 'md';
      const large = snapshot.workloads.length > GROUPING_THRESHOLD;
      const groupBy = options.groupBy ?? (readable && large && !focus ? 'class' : 'workload');
      if (groupBy === 'class') {
        if (focus) throw new UsageError('--group-by class and --focus do not go together');
        const format = options.format;
        if (format !== 'text' && format !== 'md' && format !== 'json') {
          throw new UsageError(`--group-by class writes ${GROUPED_FORMATS.join(', ')}, not ${format}`);
        }
        const note = options.groupBy
          ? undefined
          : `${snapshot.workloads.length} workloads: grouped by class for reading (--group-by workload lists every pair)`;
        io.stdout(renderGrouped({ snapshot, ...groupConnectivity(engine), note }, format));
        return;
      }
      const connections = computeConnectivity(engine, { focus });
      io.stdout(
        renderConnectivity(
          { snapshot, connections, options: { ...semantics, ...(focus ? { focus } : {}) } },
          options.format,
        ),
      );
    });
}
