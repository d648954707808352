import { Command, Option } from '@commander-js/extra-typings';
import { AddressGroups } from '../analysis/external-peers.ts';
import { compareFlows } from '../analysis/flow-comparison.ts';
import { externalGrouping, loadAuditConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import { Engine } from '../engine/engine.ts';
import { FLOW_FORMATS, FLOW_SECTIONS, type FlowSection, renderFlows } from '../report/flows.ts';
import { readFlows, splitFlowArguments } from './flow-inputs.ts';
import { type CliIo, ExitCode, UsageError } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

export function flowsCommand(io: CliIo) {
  return withInputOptions(
    new Command('flows').argument(
      '<files...>',
      'flow logs (Hubble JSON, Calico flow logs, phiwall CSV), then the manifest files or folders',
    ),
  )
    .description(
      'Compare observed flows with what the policies allow: enforcement gaps, needed flows that are dropped, allows nothing uses',
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(FLOW_FORMATS).default('text' as const),
    )
    .option('-c, --config <file>', 'audit configuration naming the PHI workloads (default: ./phiwall.yaml)')
    .option(
      '--show <sections>',
      `sections to print in text and md, comma-separated: ${FLOW_SECTIONS.join(', ')} (default: all)`,
    )
    .addHelpText(
      'after',
      `
Flow logs are recognised by their content: hubble observe -o json (flat or {"flow": …}), Calico flow
logs (one JSON record per line), or phiwall's CSV (docs/flows.md). Other arguments are manifests.

Exit status: 1 when a flow that policy denies was forwarded to or from a PHI workload (an enforcement
gap), 0 otherwise, 2 on bad input.

Examples:
  hubble observe --since 24h -o json > flows.json
  phiwall flows flows.json k8s/
  phiwall flows calico-flows.log --live --format md > flows.md
  phiwall flows flows.json k8s/ --show gap,needed`,
    )
    .action(async (args, options, command) => {
      const { flowFiles, paths } = splitFlowArguments(args);
      if (flowFiles.length === 0) {
        throw new UsageError(
          `no flow log among ${args.join(' ')}: give at least one Hubble, Calico or CSV flow file first`,
        );
      }
      const snapshot = await loadInputs(paths, options, io);
      const engine = new Engine(snapshot, engineOptionsOf(command, snapshot, io));
      const { mapped, stats } = await readFlows(flowFiles, engine, io, options.maxInputBytes);
      const { config } = loadAuditConfig(options.config);
      const phi = new Set(phiScope(snapshot, config).phi.keys());
      const comparison = compareFlows(engine, mapped, phi);
      const groups = new AddressGroups(externalGrouping(config).networks);
      io.stdout(renderFlows({ comparison, stats, show: sectionsOf(options.show), groups }, options.format));
      if (comparison.edges.some((e) => e.group === 'gap' && e.phi.length > 0)) throw new ExitCode(1);
    });
}

function sectionsOf(text: string | undefined): FlowSection[] | undefined {
  if (text === undefined) return undefined;
  const sections = text.split(',').map((s) => s.trim());
  const unknown = sections.filter((s) => !(FLOW_SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new UsageError(`--show: unknown section(s) ${unknown.join(', ')}; use ${FLOW_SECTIONS.join(', ')}`);
  return sections as FlowSection[];
}
