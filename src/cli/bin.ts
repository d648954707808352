import { readFileSync } from 'node:fs';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
};

process.exitCode = await runCli(process.argv.slice(2), io);
