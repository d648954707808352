import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { osReason } from '../load/os-errors.ts';
import { DEFAULT_MAX_INPUT_BYTES, readStdinText } from '../load/sources.ts';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

// After a full collection V8 lets the heap grow to four times what survived it (its factor for large
// heaps) before collecting again. A large cluster keeps a gigabyte alive and each pass over it leaves
// garbage, so lint, diff and audit peaked at 3 GiB on the L benchmark with about 1 GiB in use; growing
// to twice what survived costs a few more collections and keeps them under 2.8 GiB (bench/RESULTS.md).
setFlagsFromString('--heap-growing-percent=100');

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `phiwall connectivity | head` closes the pipe early; that is the reader's choice, not an error.
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  // `> /dev/full`, a full disk: an environment problem (2), never read by a script as "findings" (1).
  process.stderr.write(`phiwall: cannot write to standard output: ${osReason(error)}\n`);
  process.exit(2);
});

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: (maxBytes = DEFAULT_MAX_INPUT_BYTES) => readStdinText(maxBytes),
  stderrIsTerminal: process.stderr.isTTY === true,
};

// kubectl runs plugins as `kubectl-NAME`: help and messages should then say how the user typed it.
const name = basename(process.argv[1] ?? '') === 'kubectl-phiwall' ? 'kubectl phiwall' : 'phiwall';
process.exitCode = await runCli(process.argv.slice(2), io, name);
