import { Command, Option } from '@commander-js/extra-typings';
import { computeConnectivity } from '../analysis/connectivity.ts';
import { resolveWorkloadId } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { CONNECTIVITY_FORMATS, renderConnectivity } from '../report/connectivity.ts';
import type { CliIo } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

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
    .option('--focus <workload>', 'only connections into or out of this workload (ns/name or ns/name[Kind])')
    .addHelpText(
      'after',
      `
Examples:
  phiwall connectivity examples/clinic
  helm template ./chart | phiwall connectivity - --format json
  kubectl get pods,deploy,netpol,ns -A -o json | phiwall connectivity - --focus records/api`,
    )
    .action((paths, options, command) => {
      const snapshot = loadInputs(paths, options, io);
      const semantics = engineOptionsOf(command);
      const engine = new Engine(snapshot, semantics);
      const focus = options.focus ? resolveWorkloadId(snapshot, options.focus) : undefined;
      const connections = computeConnectivity(engine, { focus });
      io.stdout(
        renderConnectivity(
          { snapshot, connections, options: { ...semantics, ...(focus ? { focus } : {}) } },
          options.format,
        ),
      );
    });
}
