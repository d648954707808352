import { Command, Option } from '@commander-js/extra-typings';
import { runConnectivityTests } from '../analysis/connectivity-tests.ts';
import { Engine } from '../engine/engine.ts';
import { parseConnectivityTests } from '../load/connectivity-tests.ts';
import { readTextFile } from '../load/sources.ts';
import { renderTestResults, TEST_FORMATS } from '../report/connectivity-tests.ts';
import { type CliIo, ExitCode, noteInput } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

export function testCommand(io: CliIo) {
  return withInputOptions(
    new Command('test').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description('Run declarative connectivity tests (allow/deny expectations) against the manifests')
    .requiredOption('-t, --tests <file>', 'the tests file (YAML)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(TEST_FORMATS).default('text' as const),
    )
    .addHelpText(
      'after',
      `
Exit status: 0 when every test passes, 1 when any fails, 2 on bad input.

Examples:
  phiwall test examples/clinic --tests examples/clinic-tests.yaml
  phiwall test k8s/ --tests connectivity-tests.yaml --format junit > phiwall-junit.xml`,
    )
    .action(async (paths, options, command) => {
      const text = readTextFile(options.tests, options.maxInputBytes);
      noteInput(io, options.tests);
      const tests = parseConnectivityTests({ path: options.tests, text });
      const snapshot = await loadInputs(paths, options, io);
      const results = runConnectivityTests(
        new Engine(snapshot, engineOptionsOf(command, snapshot, io)),
        tests,
      );
      io.stdout(renderTestResults(results, options.format));
      if (results.some((r) => !r.pass)) throw new ExitCode(1);
    });
}
