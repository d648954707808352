/** Test helpers for the flow readers. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowReadStats, ObservedFlow } from '../../model/flows.ts';
import { type ReadFlowOptions, readFlowFile } from './read-flows.ts';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Reads a flow file; the flows in the order of their first line (a reader passes a connection on once it is complete). */
export async function readAll(
  path: string,
  options?: ReadFlowOptions,
): Promise<{ flows: ObservedFlow[]; stats: FlowReadStats }> {
  const flows: ObservedFlow[] = [];
  const stats = await readFlowFile(path, (flow) => flows.push(flow), options);
  return { flows: flows.sort((a, b) => a.line - b.line), stats };
}

/** A scratch directory, removed by the returned cleanup. */
export function scratch(): {
  dir: string;
  file(name: string, content: string | Buffer): string;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-flows-'));
  return {
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the given lines as a file of that name. */
export async function readLines(
  name: string,
  lines: readonly (string | object)[],
  options?: ReadFlowOptions,
): Promise<{ flows: ObservedFlow[]; stats: FlowReadStats }> {
  const tmp = scratch();
  try {
    const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
    return await readAll(tmp.file(name, `${text}\n`), options);
  } finally {
    tmp.cleanup();
  }
}

/** The real flow-log samples of `../shared/flows/` (never copied into the project), when present. */
export const SHARED_FLOWS = fileURLToPath(new URL('../../../../shared/flows/', import.meta.url));
