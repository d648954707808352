/** Test support: runs the CLI in-process, as users run it, and captures what it prints. */
import type { CliIo } from '../cli/io.ts';
import { runCli } from '../cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runPhiwall(
  argv: readonly string[],
  options: { signal?: AbortSignal; onOutput?: (run: CliRun) => void; stdin?: string } = {},
): Promise<CliRun> {
  const result: CliRun = { code: -1, stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => {
      result.stdout += text;
      options.onOutput?.(result);
    },
    stderr: (text) => {
      result.stderr += text;
      options.onOutput?.(result);
    },
    readStdin: () => options.stdin ?? '',
    signal: options.signal,
  };
  result.code = await runCli(argv, io);
  return result;
}
