import { writeFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { type FailOn, failsAt, runAudit } from '../compliance/audit.ts';
import { CONFIG_FILE, loadAuditConfig, STARTER_CONFIG } from '../compliance/config.ts';
import { SEVERITIES } from '../compliance/types.ts';
import { Engine } from '../engine/engine.ts';
import { type AuditReport, auditJson, renderAuditText } from '../report/audit.ts';
import { type CliIo, ExitCode, UsageError } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

const AUDIT_FORMATS = ['text', 'json'] as const;

function render(report: AuditReport, format: (typeof AUDIT_FORMATS)[number]): string {
  return format === 'json' ? `${JSON.stringify(auditJson(report), null, 2)}\n` : renderAuditText(report);
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
    .option('--baseline <path>', 'manifests of the approved baseline, for HIPAA-NP-030 (new reachability)')
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
  phiwall audit k8s/ --config phiwall.yaml --format json --output audit.json --fail-on critical`,
    )
    .action((paths, options, command) => {
      const { config, source } = loadAuditConfig(options.config);
      const snapshot = loadInputs(paths, options, io);
      const engine = new Engine(snapshot, engineOptionsOf(command));
      const generatedAt = new Date();
      const baseline = options.baseline
        ? new Engine(loadInputs([options.baseline], options, io), engineOptionsOf(command))
        : undefined;
      const result = runAudit(engine, config, { now: generatedAt, baseline });
      const text = render({ result, snapshot, config, configSource: source, generatedAt }, options.format);
      if (options.output) writeFileSync(options.output, text);
      else io.stdout(text);
      if (failsAt(result, options.failOn as FailOn)) throw new ExitCode(1);
    });
}

export function initCommand(io: CliIo) {
  return new Command('init')
    .description(`Write a commented starter ${CONFIG_FILE} with every key and its default`)
    .option('--force', 'overwrite an existing file')
    .action((options) => {
      try {
        writeFileSync(CONFIG_FILE, STARTER_CONFIG, { flag: options.force ? 'w' : 'wx' });
      } catch {
        throw new UsageError(`${CONFIG_FILE} already exists (use --force to overwrite it)`);
      }
      io.stdout(`wrote ${CONFIG_FILE}\n`);
    });
}
