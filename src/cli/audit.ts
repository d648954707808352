import { existsSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { computeConnectivity, peerName } from '../analysis/connectivity.ts';
import { compareFlows } from '../analysis/flow-comparison.ts';
import { type FailOn, failsAt, runAudit } from '../compliance/audit.ts';
import { CONFIG_FILE, loadAuditConfig, STARTER_CONFIG } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import { type ObservedTraffic, SEVERITIES } from '../compliance/types.ts';
import { VERIFY_BUDGET } from '../compliance/verify-fixes.ts';
import { Engine } from '../engine/engine.ts';
import { formatPorts } from '../engine/ports.ts';
import { type AuditReport, auditJson, type FlowEdge, renderAuditText } from '../report/audit.ts';
import { renderAuditHtml } from '../report/audit-html.ts';
import { renderAuditJunit } from '../report/audit-junit.ts';
import { renderAuditMarkdown } from '../report/audit-md.ts';
import { renderAuditSarif } from '../report/audit-sarif.ts';
import { readFlows } from './flow-inputs.ts';
import { type CliIo, ExitCode, noteInput, UsageError, writeOutputFile } from './io.ts';
import { runDetails } from './run-details.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

export const AUDIT_FORMATS = ['text', 'json', 'md', 'html', 'sarif', 'junit'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

export function renderAudit(report: AuditReport, format: AuditFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(auditJson(report), null, 2)}\n`;
    case 'md':
      return renderAuditMarkdown(report);
    case 'html':
      return renderAuditHtml(report);
    case 'sarif':
      return renderAuditSarif(report);
    case 'junit':
      return renderAuditJunit(report);
    case 'text':
      return renderAuditText(report);
  }
}

/** Connections that touch a PHI workload, for the HTML flow map. */
function phiFlows(engine: Engine, phi: ReadonlySet<string>): FlowEdge[] {
  const touches = (peer: { workload: string } | { external: string[] }) =>
    'workload' in peer && phi.has(peer.workload);
  return computeConnectivity(engine)
    .filter((c) => touches(c.src) || touches(c.dst))
    .map((c) => ({ src: peerName(c.src), dst: peerName(c.dst), ports: formatPorts(c.ports) }));
}

export function auditCommand(io: CliIo) {
  return withInputOptions(
    new Command('audit').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description('Evaluate the HIPAA network-segmentation check catalogue and write evidence')
    .option('-c, --config <file>', `audit configuration (default: ./${CONFIG_FILE} when present)`)
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(AUDIT_FORMATS).default('text' as const),
    )
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(
      new Option('--by <view>', 'lead with root causes, or list findings per check')
        .choices(['root-cause', 'check'] as const)
        .default('root-cause' as const),
    )
    .option('--no-remediation', 'leave remediation manifests out of the text and Markdown reports')
    .option('--summary', 'text only: the counts and the root-cause list, without details or coverage')
    .addOption(
      new Option(
        '--verify-fixes <which>',
        "apply each root cause's fix to the input and re-run the engine (in place for NetworkPolicy fixes): auto (most severe first, as many as about 2,500 workloads' worth of engine work allows), all, or none",
      )
        .choices(['auto', 'all', 'none'] as const)
        .default('auto' as const),
    )
    .option('--baseline <path>', 'manifests of the approved baseline, for HIPAA-NP-030 (new reachability)')
    .option(
      '--flows <files...>',
      'flow logs (Hubble, Calico, CSV): observed traffic beside policy for PHI workloads (HIPAA-NP-029, -002)',
    )
    .addOption(
      new Option(
        '--fail-on <severity>',
        'exit 1 when a failing, non-accepted finding is at or above this severity',
      )
        .choices([...SEVERITIES.filter((s) => s !== 'info'), 'never'] as const)
        .default('high' as const),
    )
    .addHelpText(
      'after',
      `
Exit status: 0 nothing fails at or above --fail-on, 1 something does, 2 bad input.

Examples:
  phiwall audit examples/clinic
  phiwall audit k8s/ --config phiwall.yaml --format json --output audit.json --fail-on critical
  phiwall audit k8s/ --format sarif --output phiwall.sarif
  phiwall audit k8s/ --format html --output audit.html
  phiwall audit --live --flows hubble-24h.json --format html --output audit.html`,
    )
    .action(async (paths, options, command) => {
      const startedAt = new Date();
      const { config, source } = loadAuditConfig(options.config);
      if (source) noteInput(io, source.path);
      const snapshot = await loadInputs(paths, options, io);
      const semantics = engineOptionsOf(command, snapshot, io);
      const engine = new Engine(snapshot, semantics);
      const generatedAt = new Date();
      const baseline = options.baseline
        ? new Engine(await loadInputs([options.baseline], { ...options, live: undefined }, io), semantics)
        : undefined;
      let observed: ObservedTraffic | undefined;
      if (options.flows) {
        const { mapped } = await readFlows(options.flows, engine, io, options.maxInputBytes);
        const phi = new Set(phiScope(snapshot, config).phi.keys());
        observed = { files: options.flows, comparison: compareFlows(engine, mapped, phi) };
      }
      const verifyFixes = { auto: VERIFY_BUDGET, all: Number.POSITIVE_INFINITY, none: 0 }[
        options.verifyFixes
      ];
      const result = runAudit(engine, config, { now: generatedAt, baseline, observed, verifyFixes });
      // Only the map needs structured flows, and they cost a second connectivity pass.
      const flows =
        options.format === 'html' ? phiFlows(engine, new Set(result.phi.map((p) => p.workload))) : undefined;
      const text = renderAudit(
        {
          result,
          snapshot,
          config,
          configSource: source,
          generatedAt,
          flows,
          by: options.by,
          remediation: options.remediation,
          summaryOnly: options.summary === true,
          run: runDetails({
            args: (command.parent as { rawArgs?: string[] } | null)?.rawArgs ?? [],
            paths,
            live: options.live,
            context: options.context,
            startedAt,
            engineOptions: { ...engine.options },
          }),
        },
        options.format,
      );
      if (options.output) writeOutputFile(io, options.output, text);
      else io.stdout(text);
      if (failsAt(result, options.failOn as FailOn)) throw new ExitCode(1);
    });
}

export function initCommand(io: CliIo) {
  return new Command('init')
    .description(`Write a commented starter ${CONFIG_FILE} with every key and its default`)
    .option('--force', 'overwrite an existing file')
    .action((options) => {
      if (!options.force && existsSync(CONFIG_FILE))
        throw new UsageError(`${CONFIG_FILE} already exists (use --force to overwrite it)`);
      writeOutputFile(io, CONFIG_FILE, STARTER_CONFIG);
      io.stdout(`wrote ${CONFIG_FILE}\n`);
    });
}
