import { Command, Option } from '@commander-js/extra-typings';
import { type LintOptions, type LintResult, lintSnapshot } from '../analysis/lint.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import type { Snapshot } from '../model/types.ts';
import { LINT_FORMATS, type LintFormat, renderLint } from '../report/lint.ts';
import { type CliIo, ExitCode } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

/** What `phiwall lint` does once the input is loaded: the rendered output and the exit status. */
export function runLint(
  snapshot: Snapshot,
  options: EngineOptions,
  format: LintFormat,
  lintOptions: LintOptions = {},
): { output: string; code: number; result: LintResult } {
  const result = lintSnapshot(snapshot, new Engine(snapshot, options), lintOptions);
  return { output: renderLint({ snapshot, result }, format), code: result.errors > 0 ? 1 : 0, result };
}

export function lintCommand(io: CliIo) {
  return withInputOptions(
    new Command('lint').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description(
      'Find problems in the NetworkPolicies themselves (selectors matching nothing, ignored or redundant rules, half-open flows, missing DNS, wrong ports), each at file:line with a fix',
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(LINT_FORMATS).default('text' as const),
    )
    .option('-c, --config <file>', 'configuration, for where the cluster DNS runs (default: ./phiwall.yaml)')
    .addHelpText(
      'after',
      `
Exit status: 1 when an error-level problem is found, 0 otherwise, 2 on bad input.

Examples:
  phiwall lint examples/clinic
  phiwall lint k8s/ --format sarif > lint.sarif`,
    )
    .action(async (paths, options, command) => {
      const snapshot = await loadInputs(paths, options, io);
      const { config } = loadAuditConfig(options.config);
      const { output, code } = runLint(snapshot, engineOptionsOf(command, snapshot, io), options.format, {
        dns: config.dns,
      });
      io.stdout(output);
      if (code !== 0) throw new ExitCode(code);
    });
}
