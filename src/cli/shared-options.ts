import { type Command, InvalidArgumentError, Option, type OptionValues } from '@commander-js/extra-typings';
import { CNI_PROFILES, type CniProfileName, cniProfile, describeProfile } from '../compliance/cni-profile.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { connect } from '../load/live/connection.ts';
import { absentNote, type ClusterListing, listCluster } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import type { SourceText } from '../load/sources.ts';
import type { Snapshot, WorkloadNames } from '../model/types.ts';
import { type CliIo, noteInput, UsageError } from './io.ts';

export interface InputOptions {
  namespace?: string;
  skipInvalid?: true;
  live?: true;
  kubeconfig?: string;
  context?: string;
  allNamespaces?: true;
  workloadNames?: WorkloadNames;
  maxInputBytes?: number;
}

/** `--max-input-bytes`: a positive whole number of bytes, with an optional K/M/G (binary) suffix. */
export function parseByteCount(value: string): number {
  const match = /^(\d+)([KMG]i?B?)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`expected a number of bytes such as 500M or 2G, got "${value}"`);
  const unit = (match[2] ?? '').charAt(0).toUpperCase();
  const bytes = Number(match[1]) * 1024 ** ' KMG'.indexOf(unit || ' ');
  if (!(bytes > 0)) throw new InvalidArgumentError(`expected more than 0 bytes, got "${value}"`);
  return bytes;
}

function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  // InvalidArgumentError makes commander report a usage error (exit 2), not an internal one.
  throw new InvalidArgumentError(`expected true or false, got "${value}"`);
}

/**
 * How the cluster's CNI resolves what the NetworkPolicy API leaves undefined. They describe the
 * cluster, not one command, so they are program options, accepted before or after the command name.
 */
export function withEngineOptions<Args extends unknown[], Opts extends OptionValues>(
  program: Command<Args, Opts>,
) {
  return program
    .addOption(
      new Option(
        '--ipblock-matches-pods <bool>',
        'an ipBlock covering a pod IP matches that pod (CNI-dependent)',
      )
        .argParser(parseBoolean)
        .default(true),
    )
    .addOption(
      new Option(
        '--cni <profile>',
        "the network plugin's choices: cilium, calico or generic (default: detected from the DaemonSets, else generic)",
      ).choices(CNI_PROFILES),
    )
    .addOption(
      new Option(
        '--host-network <mode>',
        "hostNetwork pods: node = outside policy, their traffic is the node's; pod = policed like any pod",
      )
        .choices(['node', 'pod'] as const)
        .default('node' as const),
    );
}

/**
 * How workloads are named, for every command. A program option, like the engine options; the program
 * copies it onto the command it runs (see `main.ts`), so every loader call receives it with the input options.
 */
export function withWorkloadNamesOption<Args extends unknown[], Opts extends OptionValues>(
  program: Command<Args, Opts>,
) {
  return program.addOption(
    new Option(
      '--workload-names <rule>',
      "top = after the highest controller the input shows (a Deployment, not its ReplicaSets); controller = after the pod's immediate controller (netpol-analyzer's names)",
    )
      .choices(['top', 'controller'] as const)
      .default('top' as const),
  );
}

/** Options every command that reads manifests takes. */
export function withInputOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .addOption(
      new Option(
        '-n, --namespace <name>',
        'namespace for objects that name none (default: default); with --live, the namespace to read',
      ),
    )
    .addOption(new Option('--skip-invalid', 'analyse the valid objects and mark the result partial'))
    .addOption(new Option('--live', 'read the running cluster of the kubeconfig context instead of files'))
    .addOption(
      new Option(
        '--kubeconfig <file>',
        "with --live: the kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)",
      ),
    )
    .addOption(
      new Option('--context <name>', 'with --live: the kubeconfig context (default: its current context)'),
    )
    .addOption(
      new Option(
        '-A, --all-namespaces',
        'with --live: read every namespace (the default without --namespace)',
      ),
    )
    .addOption(
      new Option(
        '--max-input-bytes <size>',
        'stop with exit status 2 when the inputs hold more than this (e.g. 500M; default 2G)',
      ).argParser(parseByteCount),
    );
}

/** Reads the manifests at `paths`, or with `--live` the cluster, and prints the loader's warnings. */
export async function loadInputs(
  paths: readonly string[],
  options: InputOptions,
  io: CliIo,
  /** What was read, for a caller that keeps it (`history record`). */
  read: {
    onSources?: (sources: readonly SourceText[]) => void;
    onListing?: (listing: ClusterListing) => void;
  } = {},
): Promise<Snapshot> {
  let snapshot: Snapshot;
  if (options.live) {
    if (paths.length > 0)
      throw new UsageError(`--live reads the cluster: leave out the paths (${paths.join(' ')})`);
    const listing = await listLive(options, io);
    read.onListing?.(listing);
    snapshot = snapshotOfListing(listing, {
      skipInvalid: options.skipInvalid,
      workloadNames: options.workloadNames,
    });
  } else {
    for (const flag of ['kubeconfig', 'context', 'allNamespaces'] as const) {
      if (options[flag])
        throw new UsageError(`--${flag === 'allNamespaces' ? 'all-namespaces' : flag} needs --live`);
    }
    snapshot = loadSnapshot(paths.length ? paths : ['.'], {
      namespace: options.namespace,
      skipInvalid: options.skipInvalid,
      readStdin: (maxBytes) => io.readStdin(maxBytes),
      workloadNames: options.workloadNames,
      maxInputBytes: options.maxInputBytes,
      onRead: (file) => noteInput(io, file),
      onSources: read.onSources,
    });
  }
  for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
  return snapshot;
}

/** Lists the cluster the live options name, with progress on stderr when it takes a while. */
export async function listLive(options: InputOptions, io: CliIo): Promise<ClusterListing> {
  if (options.allNamespaces && options.namespace)
    throw new UsageError('--all-namespaces and --namespace exclude each other');
  const connection = await connect({ kubeconfig: options.kubeconfig, context: options.context });
  const listing = await listCluster(connection, {
    namespace: options.namespace,
    progress: (text) => io.stderr(`phiwall: ${text}\n`),
  });
  const note = absentNote(listing);
  if (note) io.stderr(note);
  return listing;
}

export function workloadNamesOf(command: { optsWithGlobals(): OptionValues }): WorkloadNames {
  return command.optsWithGlobals().workloadNames === 'controller' ? 'controller' : 'top';
}

interface OptionSource {
  optsWithGlobals(): OptionValues;
  getOptionValueSource(key: string): string | undefined;
  parent: OptionSource | null;
}

/** Whether the user gave the option (on the command or the program), rather than its default. */
function given(command: OptionSource, key: string): boolean {
  for (let c: OptionSource | null = command; c; c = c.parent) {
    const source = c.getOptionValueSource(key);
    if (source && source !== 'default') return true;
  }
  return false;
}

/**
 * The engine options: the CNI profile's (`--cni`, else detected from the snapshot), with the flags the
 * user gave winning over it. The profile is printed on stderr, so every run says which one it used.
 */
export function engineOptionsOf(
  command: OptionSource,
  snapshot: Snapshot | undefined,
  io: CliIo,
): EngineOptions {
  const options = command.optsWithGlobals();
  const explicit: Partial<EngineOptions> = {};
  if (given(command, 'ipblockMatchesPods'))
    explicit.ipBlockMatchesPods = options.ipblockMatchesPods !== false;
  if (given(command, 'hostNetwork')) explicit.hostNetwork = options.hostNetwork === 'pod' ? 'pod' : 'node';
  const chosen = options.cni as CniProfileName | undefined;
  const profile = cniProfile(snapshot, chosen, explicit);
  io.stderr(`phiwall: ${describeProfile(profile)}\n`);
  return profile.options;
}
