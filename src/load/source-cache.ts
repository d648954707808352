import type { Stats } from 'node:fs';
import type { Diagnostic } from './diagnostics.ts';
import { type ParsedDocument, parseSource } from './documents.ts';
import type { SourceText } from './sources.ts';

/**
 * A file's stamp can stay the same across a write made within the file system's time granularity of
 * the read (a second or two on some file systems): a file modified that close to when it was read is
 * read again and compared, as git treats a "racily clean" file.
 */
const RACY_MS = 2000;

interface Entry {
  stamp: string;
  /** When the text was read (taken before reading, by this machine's clock). */
  readAt: number;
  source: SourceText;
}

/**
 * The files an input was read from, with what parsing them gave, so that reading it again (a server
 * watching its input) reads and parses only the files that changed. A file counts as unchanged while
 * its device, inode, size, modification and change times are as they were; one modified within
 * RACY_MS of its read is read again and its text compared, so that a write the times cannot tell apart
 * is never missed. Handed on unchanged, a source is the same object, which is what `parse` keys on.
 */
export class SourceCache {
  private readonly files = new Map<string, Entry>();
  private readonly parsed = new WeakMap<SourceText, ReturnType<typeof parseSource>>();

  /** The source at `path` (`stats`: its stat): as read before while unchanged, else from `read`. */
  read(
    path: string,
    stats: Stats,
    found: boolean,
    read: () => SourceText | undefined,
  ): SourceText | undefined {
    const stamp = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${found}`;
    const entry = this.files.get(path);
    const unchanged = entry?.stamp === stamp;
    if (entry && unchanged && stats.mtimeMs < entry.readAt - RACY_MS) return entry.source;
    const readAt = Date.now();
    const source = read();
    if (!source) {
      this.files.delete(path);
      return undefined;
    }
    const same = entry && unchanged && entry.source.text === source.text;
    this.files.set(path, { stamp, readAt, source: same ? entry.source : source });
    return same ? entry.source : source;
  }

  /** Forgets the files not among `sources` (deleted, or no longer under a folder read). */
  keepOnly(sources: readonly SourceText[]): void {
    const kept = new Set(sources.map((s) => s.path));
    for (const path of this.files.keys()) if (!kept.has(path)) this.files.delete(path);
  }

  /** parseSource, once per source handed out. */
  parse(source: SourceText): { documents: ParsedDocument[]; errors: Diagnostic[] } {
    let result = this.parsed.get(source);
    if (!result) {
      result = parseSource(source);
      this.parsed.set(source, result);
    }
    return result;
  }
}
