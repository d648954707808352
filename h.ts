import { CommanderError } from 'commander';
import { runCli } from './src/cli/main.ts';

const io = { stdout: () => {}, stderr: (t: string) => process.stdout.write('ERR ' + t), readStdin: () => '' };
console.log(await runCli(['test', 'examples/clinic', '--tests', '/nonexistent'], io));
console.log(await runCli(['help', 'test'], io));
