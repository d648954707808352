/**
 * Strings followed by `:` in valid JSON text: every key as written, duplicates included. JSON.parse keeps
 * the last of two equal keys, so comparing this with the keys of the parsed value finds repeated ones.
 *
 * Self-contained (no reference outside its body): the background reader runs this very function's
 * source in a worker thread, so large files are counted on the other core while this one parses.
 */
export function countKeyTokens(text: string): number {
  // No inner functions: a transpiler may wrap them in helpers (esbuild's __name) the worker lacks.
  let count = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) {
    let end = text.indexOf('"', i + 1);
    for (;;) {
      if (end < 0) return count;
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 92 /* \\ */) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let after = end + 1;
    while (after < text.length && ' \t\r\n'.includes(text.charAt(after))) after++;
    if (text.charCodeAt(after) === 58 /* : */) count++;
    i = end;
  }
  return count;
}

/** What parseSource reads as JSON: named `.json`, or starting with a bracket. */
export function looksLikeJson(path: string, text: string): boolean {
  return path.toLowerCase().endsWith('.json') || /^\s*[[{]/.test(text);
}

/**
 * The offset of the first key that repeats one before it in the same object, in valid JSON text; one
 * pass, so a repeated key in a dump of hundreds of megabytes is placed in about a second.
 */
export function firstRepeatedKey(text: string): number | undefined {
  // Per open bracket: the keys seen so far for an object, undefined for an array.
  const open: (Set<string> | undefined)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) open.push(new Set());
    else if (c === 91 /* [ */) open.push(undefined);
    else if (c === 125 /* } */ || c === 93 /* ] */) open.pop();
    else if (c === 34 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 34) end += text.charCodeAt(end) === 92 ? 2 : 1;
      let after = end + 1;
      while (after < text.length && ' \t\r\n'.includes(text.charAt(after))) after++;
      const keys = open.at(-1);
      if (keys && text.charCodeAt(after) === 58 /* : */) {
        const raw = text.slice(i, end + 1);
        // "a" and "\u0061" name one key.
        const key = raw.includes('\\') ? JSON.stringify(JSON.parse(raw)) : raw;
        if (keys.has(key)) return i;
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}
