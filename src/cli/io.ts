import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isSystemError, osReason } from '../load/os-errors.ts';

/** The process edges a command touches, so tests can run commands in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Standard input as text; the process's refuses more than `maxBytes` (`--max-input-bytes`). */
  readStdin(maxBytes?: number): string;
  /** Whether stderr is a terminal, where progress can be drawn in place. */
  stderrIsTerminal?: boolean;
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

/**
 * A problem of the machine, not of phiwall or its input: a full disk, a folder where a file belongs, a
 * port in use. Reported in one line with the path and the OS's reason, exit status 2.
 */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** The files each run read, so that no output is written over one of them. */
const inputsOf = new WeakMap<CliIo, Set<string>>();

export function noteInput(io: CliIo, file: string): void {
  const key = realPath(file);
  const inputs = inputsOf.get(io);
  if (inputs) inputs.add(key);
  else inputsOf.set(io, new Set([key]));
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return resolve(file);
  }
}

/**
 * Writes an output file so that it is never lost: to a temporary file in the same folder, renamed into
 * place only once complete. A full disk, a size limit or a kill halfway leaves the previous file as it
 * was, and writing over one of the run's own inputs is refused.
 */
export function writeOutputFile(io: CliIo, path: string, text: string): void {
  if (inputsOf.get(io)?.has(realPath(path)))
    throw new UsageError(`refusing to write the output over ${path}: it is one of this run's inputs`);
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new EnvironmentError(`${path}: is a directory`);
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx', existing ? existing.mode & 0o7777 : 0o666);
    writeFileSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    if (isSystemError(error) && error.code === 'ENOENT' && !existsSync(dir))
      throw new EnvironmentError(`cannot write ${path}: the folder ${dir} does not exist`);
    throw new EnvironmentError(`${osReason(error)} writing ${path}`);
  }
}
