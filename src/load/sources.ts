import {
  type Dirent,
  lstatSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import { basename, extname, join } from 'node:path';
import { readInBackground } from './background-read.ts';
import { type Diagnostic, InputError } from './diagnostics.ts';
import { isSystemError, osReason } from './os-errors.ts';
import { SkippedInputs } from './skipped-inputs.ts';
import type { SourceCache } from './source-cache.ts';

export interface SourceText {
  /** The path as the user named it (or `<stdin>`), so messages point where they expect. */
  path: string;
  text: string;
  /** The sha256 of the input, for evidence; computed from the text when not given or undefined. */
  sha256?: () => string | undefined;
  /** Key tokens of a JSON input, counted in the background (see countKeyTokens); may be undefined. */
  keyTokens?: () => number | undefined;
  /**
   * Found by walking a folder rather than named: a file that holds no Kubernetes object is then skipped
   * (a repository holds CI and tool configuration beside its manifests), where a named one is an error.
   */
  found?: true;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
export const STDIN = '-';

/** 2 GiB: more than any cluster's dump, less than a runaway pipe or a device fills memory with. */
export const DEFAULT_MAX_INPUT_BYTES = 2 * 1024 ** 3;

/** Files that are normal in a repository and never Kubernetes objects, by name, with why. */
const NOT_MANIFESTS: readonly [RegExp, string][] = [
  [/^values[^/]*\.ya?ml$/i, 'Helm values'],
  [/^Chart\.ya?ml$/, 'Helm chart metadata'],
  [/^(docker-)?compose([.-][^/]*)?\.ya?ml$/i, 'compose file'],
  [
    /^(azure-pipelines|bitbucket-pipelines|cloudbuild|codecov|mkdocs|appveyor|buildspec|skaffold|devfile)\.ya?ml$/i,
    'CI or tool configuration',
  ],
  [
    /^(package|package-lock|npm-shrinkwrap|composer|renovate|biome|deno|lerna|nx|turbo|vercel|firebase|[jt]sconfig[^/]*)\.json$/i,
    'JSON configuration',
  ],
];

/** Folders that hold a package's render inputs, not objects: named with the command that renders them. */
const RENDERED_FOLDERS: readonly [string[], string, (dir: string) => string][] = [
  [['Chart.yaml', 'Chart.yml'], 'a Helm chart', (dir) => `helm template ${dir} | phiwall … -`],
  [
    ['kustomization.yaml', 'kustomization.yml', 'Kustomization'],
    'a kustomization',
    (dir) => `kubectl kustomize ${dir} | phiwall … -`,
  ],
];

export interface ReadOptions {
  /** Reads standard input, refusing more than `maxBytes`; the process's by default. */
  readStdin?: (maxBytes: number) => string;
  /** The most all inputs together may hold (`--max-input-bytes`). */
  maxInputBytes?: number;
  /** Files read before, handed on as they were while unchanged (a server reading its input again). */
  cache?: SourceCache;
}

export interface ReadSources {
  sources: SourceText[];
  errors: Diagnostic[];
  skipped: SkippedInputs;
}

/**
 * Reads files, folders and `-` for stdin. Folders are walked recursively for manifest extensions,
 * sorted for stable output, leaving out hidden folders, node_modules, charts, kustomizations, known
 * non-manifests and anything but regular files, each recorded in `skipped`. A path given by name is
 * read strictly: missing, unreadable or not a regular file is an error, never silently empty input.
 */
export function readSources(paths: readonly string[], options: ReadOptions = {}): ReadSources {
  const budget = { left: options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, max: options.maxInputBytes };
  const read = new SourceReader(budget, options.readStdin ?? readStdinText, options.cache);
  for (const path of paths) read.named(path);
  options.cache?.keepOnly(read.sources);
  return { sources: read.sources, errors: read.errors, skipped: read.skipped };
}

class SourceReader {
  readonly sources: SourceText[] = [];
  readonly errors: Diagnostic[] = [];
  readonly skipped = new SkippedInputs();
  private readonly walked = new Set<string>();

  constructor(
    private readonly budget: { left: number; max?: number },
    private readonly readStdin: (maxBytes: number) => string,
    private readonly cache: SourceCache | undefined,
  ) {}

  named(path: string): void {
    if (path === STDIN) {
      this.stdin();
      return;
    }
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch (error) {
      this.error(path, isSystemError(error) && error.code === 'ENOENT' ? missing(path) : osReason(error));
      return;
    }
    if (stats.isDirectory()) this.folder(path);
    else if (stats.isFile()) this.file(path, stats);
    else this.error(path, `${notRegular(stats)}: phiwall reads files, folders, and - for standard input`);
  }

  private stdin(): void {
    let text: string;
    try {
      text = this.readStdin(this.budget.left);
    } catch (error) {
      if (error instanceof InputError) this.errors.push(...error.diagnostics);
      else this.error('<stdin>', osReason(error));
      return;
    }
    if (!this.spend('<stdin>', Buffer.byteLength(text))) return;
    this.sources.push({ path: '<stdin>', text });
  }

  private folder(dir: string): void {
    let real: string;
    let entries: Dirent[];
    try {
      real = realpathSync(dir);
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      this.error(dir, osReason(error));
      return;
    }
    // A symlink back up the tree would walk forever.
    if (this.walked.has(real)) return;
    this.walked.add(real);
    const names = new Set(entries.map((e) => e.name));
    for (const [markers, what, render] of RENDERED_FOLDERS) {
      if (markers.some((m) => names.has(m))) {
        this.skipped.folder(dir, what, render(dir));
        return;
      }
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) this.entry(join(dir, entry.name), entry);
  }

  private entry(path: string, entry: Dirent): void {
    const hidden = entry.name.startsWith('.');
    if (entry.isDirectory()) {
      if (hidden || entry.name === 'node_modules') this.skipped.file(path, 'hidden folder or node_modules');
      else this.folder(path);
      return;
    }
    if (!entry.isSymbolicLink() && !MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) return;
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch (error) {
      const manifest = MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase());
      // A symlink to a file another checkout or a build creates: nothing there to read.
      if (isSystemError(error) && ['ENOENT', 'ELOOP'].includes(error.code)) {
        if (manifest) this.skipped.file(path, 'dangling symlink');
      } else this.error(path, osReason(error));
      return;
    }
    if (stats.isDirectory()) {
      if (hidden) this.skipped.file(path, 'hidden folder or node_modules');
      else this.folder(path);
      return;
    }
    if (!MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) return;
    const known = NOT_MANIFESTS.find(([pattern]) => pattern.test(basename(path)))?.[1];
    if (hidden) this.skipped.file(path, 'hidden file');
    else if (known) this.skipped.file(path, known);
    else if (!stats.isFile()) this.skipped.file(path, 'not a regular file (FIFO, socket or device)');
    else this.file(path, stats, true);
  }

  private file(path: string, stats: Stats, found = false): void {
    if (!this.spend(path, stats.size)) return;
    const read = (): SourceText | undefined => {
      // Started first, so the worker's read of the file overlaps this one's.
      const background = readInBackground(path, stats.size);
      try {
        const text = readFileSync(path, 'utf8');
        return { path, text, ...background, ...(found ? { found: true } : {}) };
      } catch (error) {
        this.error(path, osReason(error));
        return undefined;
      }
    };
    const source = this.cache ? this.cache.read(path, stats, found, read) : read();
    if (source) this.sources.push(source);
  }

  /** Takes `bytes` from the budget; false (and an error) when the inputs hold more than it allows. */
  private spend(path: string, bytes: number): boolean {
    if (bytes > this.budget.left) {
      const limit = this.budget.max ?? DEFAULT_MAX_INPUT_BYTES;
      this.error(
        path,
        `the inputs hold more than ${limit} bytes (--max-input-bytes ${limit}): pass a larger limit if this is meant`,
      );
      this.budget.left = -1;
      return false;
    }
    this.budget.left -= bytes;
    return true;
  }

  private error(file: string, message: string): void {
    this.errors.push({ severity: 'error', file, message });
  }
}

/**
 * Why a single named file (a tests file, a config, a flow log) cannot be read whole: missing, not a
 * regular file (a FIFO would block forever, a device never ends), or larger than `maxBytes`.
 */
export function unreadableFile(path: string, maxBytes = DEFAULT_MAX_INPUT_BYTES): Diagnostic | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const reason = isSystemError(error) && error.code === 'ENOENT' ? missing(path) : osReason(error);
    return { severity: 'error', file: path, message: reason };
  }
  if (stats.isDirectory()) return { severity: 'error', file: path, message: 'is a directory, not a file' };
  if (!stats.isFile()) return { severity: 'error', file: path, message: notRegular(stats) };
  if (stats.size > maxBytes)
    return {
      severity: 'error',
      file: path,
      message: `holds ${stats.size} bytes, more than --max-input-bytes ${maxBytes}`,
    };
  return undefined;
}

/** A named file's text, or an InputError saying why it cannot be read. */
export function readTextFile(path: string, maxBytes?: number): string {
  const problem = unreadableFile(path, maxBytes);
  if (problem) throw new InputError([problem]);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError([{ severity: 'error', file: path, message: osReason(error) }]);
  }
}

function missing(path: string): string {
  // lstat finds what stat did not: the path is a symlink to nothing.
  return lstatSync(path, { throwIfNoEntry: false }) ? 'dangling symlink' : 'no such file or folder';
}

function notRegular(stats: Stats): string {
  if (stats.isFIFO()) return 'not a regular file (a FIFO)';
  if (stats.isSocket()) return 'not a regular file (a socket)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'not a regular file (a device)';
  return 'not a regular file';
}

/**
 * Standard input, read in chunks so that a runaway producer (`< /dev/zero`, a pipeline stuck in a loop)
 * ends at `maxBytes`, and binary data at its first NUL byte, instead of filling memory.
 */
export function readStdinText(maxBytes: number, fd = 0): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(1 << 20);
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if (isSystemError(error) && error.code === 'EAGAIN') {
        // A non-blocking pipe with nothing in it yet: wait a little rather than spin.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (isSystemError(error) && error.code === 'EOF') break;
      throw error;
    }
    if (read === 0) break;
    const nul = chunk.subarray(0, read).indexOf(0);
    if (nul >= 0) {
      throw new InputError([
        {
          severity: 'error',
          file: '<stdin>',
          message: `binary data (a NUL byte at byte ${total + nul}), not YAML or JSON`,
        },
      ]);
    }
    total += read;
    if (total > maxBytes) {
      throw new InputError([
        {
          severity: 'error',
          file: '<stdin>',
          message: `more than ${maxBytes} bytes (--max-input-bytes): pass a larger limit if this is meant`,
        },
      ]);
    }
    chunks.push(Buffer.from(chunk.subarray(0, read)));
  }
  return Buffer.concat(chunks).toString('utf8');
}
