import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { FlowMapper, type MappedFlows } from '../analysis/flows.ts';
import type { Engine } from '../engine/engine.ts';
import { InputError } from '../load/diagnostics.ts';
import { detectFlowFormat, readFlowFile } from '../load/flows/read-flows.ts';
import { unreadableFile } from '../load/sources.ts';
import type { FlowReadStats } from '../model/flows.ts';
import { type CliIo, noteInput } from './io.ts';

/** The first few kilobytes of a file: enough to tell a flow log from manifests. */
function head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(8192);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Splits `FLOWFILE... [PATH...]` arguments: files whose first lines are Hubble, Calico or phiwall CSV
 * flow records are flow logs; folders, manifests and anything else are the manifests to analyse.
 */
export function splitFlowArguments(args: readonly string[]): { flowFiles: string[]; paths: string[] } {
  const flowFiles: string[] = [];
  const paths: string[] = [];
  for (const arg of args) {
    let isFlowLog = false;
    try {
      isFlowLog = arg !== '-' && statSync(arg).isFile() && detectFlowFormat(head(arg), arg) !== undefined;
    } catch {
      // A path that cannot be read is left to the manifest loader, which reports it with its name.
    }
    (isFlowLog ? flowFiles : paths).push(arg);
  }
  return { flowFiles, paths };
}

/** Inputs smaller than this are read without a progress line. */
export const PROGRESS_MIN_BYTES = 10_000_000;

/**
 * A progress line on stderr, redrawn in place, when stderr is a terminal and the input is a file over
 * 10 MB; nothing elsewhere, where it would only clutter a log. The last call (all read) ends the line.
 */
export function progressLine(io: CliIo, file: string): (read: number, total: number) => void {
  let last = 0;
  return (read, total) => {
    if (io.stderrIsTerminal !== true || total < PROGRESS_MIN_BYTES) return;
    const done = read >= total;
    if (!done && Date.now() - last < 250) return;
    last = Date.now();
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    const share = Math.min(1, read / total);
    const bar = `[${'#'.repeat(Math.round(share * 20)).padEnd(20, '.')}] ${Math.round(share * 100)}%`;
    io.stderr(`\rphiwall: reading ${file} ${bar} ${mb(read)} of ${mb(total)}${done ? '\n' : ''}`);
  };
}

/** Reads every flow log, maps each record to the engine's snapshot, and reports what could not be used. */
export async function readFlows(
  flowFiles: readonly string[],
  engine: Engine,
  io: CliIo,
  maxBytes?: number,
): Promise<{ mapped: MappedFlows; stats: FlowReadStats[] }> {
  const mapper = new FlowMapper(engine);
  const stats: FlowReadStats[] = [];
  const problems = flowFiles.flatMap((file) => unreadableFile(file, maxBytes) ?? []);
  if (problems.length > 0) throw new InputError(problems);
  for (const file of flowFiles) {
    noteInput(io, file);
    const read = await readFlowFile(file, (flow) => mapper.add(flow), { progress: progressLine(io, file) });
    stats.push(read);
    if (read.malformed.count > 0) {
      io.stderr(
        `${file}:${read.malformed.firstLine}: warning: ${read.malformed.count} malformed ${read.format} record(s) skipped; the first: ${read.malformed.firstProblem}\n`,
      );
    }
  }
  return { mapped: mapper.result(), stats };
}
