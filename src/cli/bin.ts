import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

// `phiwall connectivity | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => readFileSync(0, 'utf8'),
};

// kubectl runs plugins as `kubectl-NAME`: help and messages should then say how the user typed it.
const name = basename(process.argv[1] ?? '') === 'kubectl-phiwall' ? 'kubectl phiwall' : 'phiwall';
process.exitCode = await runCli(process.argv.slice(2), io, name);
