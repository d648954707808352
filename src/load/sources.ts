import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileHash } from './background-hash.ts';
import type { Diagnostic } from './diagnostics.ts';

export interface SourceText {
  /** The path as the user named it (or `<stdin>`), so messages point where they expect. */
  path: string;
  text: string;
  /** The sha256 of the input, for evidence; computed from the text when not given. */
  sha256?: () => string;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
export const STDIN = '-';

/**
 * Reads files, folders (recursively, manifest extensions only, sorted for stable output) and `-` for stdin.
 * Missing paths are errors, not silently empty input.
 */
export function readSources(
  paths: readonly string[],
  readStdin: () => string = () => readFileSync(0, 'utf8'),
): { sources: SourceText[]; errors: Diagnostic[] } {
  const sources: SourceText[] = [];
  const errors: Diagnostic[] = [];
  for (const path of paths) {
    if (path === STDIN) {
      sources.push({ path: '<stdin>', text: readStdin() });
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      errors.push({ severity: 'error', file: path, message: 'no such file or folder' });
      continue;
    }
    const files = isDirectory ? listManifests(path) : [path];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      sources.push({ path: file, text, sha256: fileHash(file, statSync(file).size, text) });
    }
  }
  return { sources, errors };
}

function listManifests(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listManifests(path);
    return MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase()) ? [path] : [];
  });
}
