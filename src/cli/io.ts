/** The process edges a command touches, so tests can run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): string;
  /** Ends long-running modes (`--watch`); without it they run until SIGINT or SIGTERM. */
  signal?: AbortSignal;
}

/** A command's exit status: 0 success, 1 a finding or failed test, 2 bad input. */
export class ExitCode {
  constructor(readonly code: number) {}
}

/** A mistake in how a command was called: reported in one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Resolves when the io's signal aborts, or on SIGINT/SIGTERM for the real process. */
export function untilStopped(io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
