/**
 * Watches input files and folders and reports, after a quiet moment, which manifests changed.
 *
 * Every folder is watched on its own (not with `recursive: true`, whose Linux implementation in Node 20
 * follows files rather than folders and loses a file that an editor replaces): editors save by writing
 * a new file and renaming it over the old one, which a folder's watcher sees every time. Files named
 * directly are watched through their folder. The set of folders is brought up to date after every
 * batch and every second, so new subfolders are watched and a folder removed or replaced
 * (`rm -rf k8s && cp -r …`) is watched again once it is back.
 */
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Not followed (`phiwall serve` in a repository's root would otherwise watch thousands of folders). */
const SKIPPED_FOLDERS = new Set(['.git', 'node_modules']);

export interface WatchOptions {
  /** Quiet time before reporting a batch of changes (default 150 ms). */
  debounceMs?: number;
  /** How often the set of watched folders is checked (default 1 s). */
  syncMs?: number;
}

export interface InputWatch {
  close(): void;
}

/**
 * Whether a changed name in a watched folder may change what the loader reads: a manifest, or a folder
 * moved in or out (a deleted one can no longer be stat'ed: a name without an extension counts). Editors'
 * swap and backup files (`.x.swp`, `x~`, vim's `4913`) do not.
 */
function relevant(path: string): boolean {
  const name = basename(path);
  const ext = extname(name).toLowerCase();
  if (MANIFEST_EXTENSIONS.has(ext)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return ext === '' && !name.startsWith('.') && !name.endsWith('~') && !/^\d+$/.test(name);
  }
}

/** Which folder is at a path: inode numbers are reused at once, so with its creation time. */
function identityOf(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.ino}:${stat.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

/** A folder and its subfolders, as the loader walks them. */
function foldersUnder(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [
    dir,
    ...entries
      .filter((e) => e.isDirectory() && !SKIPPED_FOLDERS.has(e.name))
      .flatMap((e) => foldersUnder(join(dir, e.name))),
  ];
}

interface Watched {
  watcher: FSWatcher;
  identity: string;
}

/**
 * Calls `onChange` with the changed paths (relative to the working folder) a quiet moment after the
 * last change under `paths`.
 */
export function watchInputs(
  paths: readonly string[],
  onChange: (changed: string[]) => void,
  options: WatchOptions = {},
): InputWatch {
  const debounceMs = options.debounceMs ?? 150;
  const watched = new Map<string, Watched>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const roots = paths.map((path) => resolve(path));
  /** Folder → names of interest in it; undefined: every relevant name (a watched tree). */
  const interest = (): Map<string, Set<string> | undefined> => {
    const folders = new Map<string, Set<string> | undefined>();
    for (const root of roots) {
      let isDirectory = false;
      try {
        isDirectory = statSync(root).isDirectory();
      } catch {
        // Gone for now: its folder is watched for its return below.
      }
      if (isDirectory) {
        for (const folder of foldersUnder(root)) folders.set(folder, undefined);
      } else {
        const folder = resolve(root, '..');
        if (folders.has(folder) && folders.get(folder) === undefined) continue;
        const names = folders.get(folder) ?? new Set<string>();
        names.add(basename(root));
        folders.set(folder, names);
      }
    }
    return folders;
  };
  let wanted = interest();

  const note = (path: string) => {
    if (closed) return;
    const near = relative(process.cwd(), path);
    changed.add(near === '' ? path : near.startsWith('..') ? path : near);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...changed].sort();
      changed.clear();
      sync();
      if (!closed) onChange(batch);
    }, debounceMs);
  };

  const open = (folder: string) => {
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, (_event, name) => {
        const names = wanted.get(folder);
        if (name === null) {
          note(folder);
          return;
        }
        const path = join(folder, name.toString());
        // The folder itself went away (Linux names it, as if it were inside itself): this watcher hears
        // nothing more, even if a folder of the same name comes back.
        if (
          name.toString() === basename(folder) &&
          identityOf(path) === undefined &&
          identityOf(folder) === undefined
        ) {
          drop(folder);
          note(folder);
          return;
        }
        if (names ? names.has(name.toString()) : relevant(path)) note(path);
      });
    } catch {
      return; // Gone already: the next sync tries again.
    }
    watcher.on('error', () => drop(folder));
    watched.set(folder, { watcher, identity: identityOf(folder) ?? '' });
  };

  const drop = (folder: string) => {
    watched.get(folder)?.watcher.close();
    watched.delete(folder);
  };

  /** Folders watched at some point: one watched again was lost or replaced, and may hold anything. */
  const everWatched = new Set<string>();

  /** Watches the folders of interest now, and only them. */
  const sync = () => {
    if (closed) return;
    wanted = interest();
    for (const [folder, { identity }] of watched) {
      if (!wanted.has(folder) || identityOf(folder) !== identity) drop(folder);
    }
    for (const folder of wanted.keys()) {
      if (watched.has(folder)) continue;
      open(folder);
      if (!watched.has(folder)) continue;
      if (everWatched.has(folder)) note(folder);
      everWatched.add(folder);
    }
  };

  sync();
  const check = setInterval(sync, options.syncMs ?? 1000);
  check.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(check);
      for (const { watcher } of watched.values()) watcher.close();
      watched.clear();
    },
  };
}
