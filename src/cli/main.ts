import { Command, CommanderError } from '@commander-js/extra-typings';
import { ResolveError } from '../analysis/resolve.ts';
import { StoreError } from '../history/db.ts';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import { LiveError } from '../load/live/connection.ts';
import { isSystemError, osReason } from '../load/os-errors.ts';
import { VERSION } from '../version.ts';
import { auditCommand, initCommand } from './audit.ts';
import { connectivityCommand } from './connectivity.ts';
import { diffCommand } from './diff.ts';
import { explainCommand } from './explain.ts';
import { flowsCommand } from './flows.ts';
import { generateCommand } from './generate.ts';
import { historyCommand } from './history.ts';
import { type CliIo, EnvironmentError, ExitCode, UsageError } from './io.ts';
import { lintCommand } from './lint.ts';
import { serveCommand } from './serve.ts';
import { withEngineOptions, withWorkloadNamesOption } from './shared-options.ts';
import { snapshotCommand } from './snapshot.ts';
import { testCommand } from './test-command.ts';

/** The one table of exit statuses, the same for every command (README: Exit status). */
const EXIT_STATUS_HELP = `
Exit statuses of every command:
  0  success
  1  the command's own verdict, where it has one (failed tests, findings at or above --fail-on,
     a diff opening a path to PHI, lint errors, a flow gap into PHI, a failed proof)
  2  bad input, bad usage or an environment problem (a missing or unreadable path, a full disk,
     a folder where a file belongs, a port in use), with the path and the reason
  3  a bug in phiwall: please report it`;

/** `name` is how the user called phiwall: `kubectl phiwall` when kubectl runs it as a plugin. */
export function buildProgram(io: CliIo, name = 'phiwall') {
  const program = new Command(name)
    .description('Proves, explains and watches the network segmentation of Kubernetes clusters that hold PHI')
    .version(VERSION)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  phiwall connectivity examples/clinic --format md
  phiwall explain frontend/portal records/api --port 8443 examples/clinic
  phiwall test examples/clinic --tests examples/clinic-tests.yaml
  phiwall --host-network pod connectivity k8s/
  phiwall --workload-names controller connectivity cluster-dump.json
  phiwall audit --live --context prod`,
    )
    .addCommand(connectivityCommand(io))
    .addCommand(explainCommand(io))
    .addCommand(testCommand(io))
    .addCommand(diffCommand(io))
    .addCommand(lintCommand(io))
    .addCommand(auditCommand(io))
    .addCommand(initCommand(io))
    .addCommand(snapshotCommand(io))
    .addCommand(flowsCommand(io))
    .addCommand(generateCommand(io))
    .addCommand(serveCommand(io))
    .addCommand(historyCommand(io));
  // addCommand() does not pass the output settings down, and in-process callers must get every word.
  const configure = (commands: readonly Command[]) => {
    for (const command of commands) {
      command
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .configureHelp({ showGlobalOptions: true })
        .addHelpText('after', EXIT_STATUS_HELP);
      configure(command.commands as Command[]);
    }
  };
  configure(program.commands as Command[]);
  program.addHelpText('after', EXIT_STATUS_HELP);
  const configured = withWorkloadNamesOption(withEngineOptions(program));
  // The loader is called with each command's own options: the program's naming rule joins them there.
  configured.hook('preAction', (_, command) => {
    command.setOptionValue('workloadNames', configured.opts().workloadNames);
  });
  return configured;
}

/** An OS error no command turned into a message of its own, with what it was about and why. */
export function environmentProblem(error: NodeJS.ErrnoException): string {
  const { port, address } = error as { port?: number; address?: string };
  if (error.code === 'EADDRINUSE' && port !== undefined) return `port ${port} is in use: pass --port`;
  if (error.syscall === 'listen' || error.syscall === 'bind')
    return `cannot listen on ${address ?? ''}${port !== undefined ? `:${port}` : ''}: ${osReason(error)}`;
  const path = error.path ?? (error as { dest?: string }).dest;
  return path
    ? `${path}: ${osReason(error)}`
    : `${error.syscall ? `${error.syscall}: ` : ''}${osReason(error)}`;
}

/** Runs the CLI and returns its exit status; never lets a stack trace reach the user. */
export async function runCli(argv: readonly string[], io: CliIo, name?: string): Promise<number> {
  const program = buildProgram(io, name);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    if (error instanceof InputError) {
      for (const d of error.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
      const count = error.diagnostics.length;
      io.stderr(`phiwall: ${count} error${count === 1 ? '' : 's'} in the input; nothing was analysed\n`);
      return 2;
    }
    if (
      error instanceof ResolveError ||
      error instanceof UsageError ||
      error instanceof LiveError ||
      error instanceof StoreError ||
      error instanceof EnvironmentError
    ) {
      io.stderr(`phiwall: ${error.message}\n`);
      return 2;
    }
    if (isSystemError(error)) {
      io.stderr(`phiwall: ${environmentProblem(error)}\n`);
      return 2;
    }
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage mistakes are bad input.
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`phiwall: internal error: ${message}\nPlease report this with the input that caused it.\n`);
    return 3;
  }
}
