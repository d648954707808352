import { type Command, InvalidArgumentError, Option, type OptionValues } from '@commander-js/extra-typings';
import type { EngineOptions } from '../engine/endpoint.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import type { CliIo } from './io.ts';

export interface InputOptions {
  namespace?: string;
  skipInvalid?: true;
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
        '--host-network <mode>',
        "hostNetwork pods: node = outside policy, their traffic is the node's; pod = policed like any pod",
      )
        .choices(['node', 'pod'] as const)
        .default('node' as const),
    );
}

/** Options every command that reads manifests takes. */
export function withInputOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
) {
  return command
    .addOption(
      new Option('-n, --namespace <name>', 'namespace for objects that name none (default: default)'),
    )
    .addOption(new Option('--skip-invalid', 'analyse the valid objects and mark the result partial'));
}

export function loadInputs(paths: readonly string[], options: InputOptions, io: CliIo): Snapshot {
  const snapshot = loadSnapshot(paths.length ? paths : ['.'], {
    namespace: options.namespace,
    skipInvalid: options.skipInvalid,
    readStdin: io.readStdin,
  });
  for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
  return snapshot;
}

export function engineOptionsOf(command: { optsWithGlobals(): OptionValues }): EngineOptions {
  const options = command.optsWithGlobals();
  return {
    ipBlockMatchesPods: options.ipblockMatchesPods !== false,
    hostNetwork: options.hostNetwork === 'pod' ? 'pod' : 'node',
  };
}
