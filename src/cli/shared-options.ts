import { type Command, Option, type OptionValues } from '@commander-js/extra-typings';
import type { EngineOptions } from '../engine/endpoint.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { type LoadOptions, loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import type { CliIo } from './io.ts';

export interface InputOptions {
  namespace?: string;
  skipInvalid?: boolean;
  ipblockMatchesPods: boolean;
}

function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`expected true or false, got "${value}"`);
}

/** Options every command that reads manifests takes. */
export function withInputOptions<Args extends unknown[], Opts extends OptionValues>(command: Command<Args, Opts>) {
  return command
    .addOption(new Option('-n, --namespace <name>', 'namespace for objects that name none (default: default)'))
    .addOption(new Option('--skip-invalid', 'analyse the valid objects and mark the result partial'))
    .addOption(
      new Option('--ipblock-matches-pods <bool>', 'whether an ipBlock covering a pod IP matches that pod (CNI-dependent)')
        .argParser(parseBoolean)
        .default(true),
    );
}

export function loadInputs(paths: readonly string[], options: InputOptions, io: CliIo): Snapshot {
  const loadOptions: LoadOptions = { namespace: options.namespace, skipInvalid: options.skipInvalid, readStdin: io.readStdin };
  const snapshot = loadSnapshot(paths.length ? paths : ['.'], loadOptions);
  for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
  return snapshot;
}

export function engineOptions(options: InputOptions): EngineOptions {
  return { ipBlockMatchesPods: options.ipblockMatchesPods };
}
