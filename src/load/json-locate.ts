import type { FieldKey, Position } from './documents.ts';

/**
 * Finds where a field path sits in JSON text without building a syntax tree: a `kubectl get -o json`
 * dump of a large cluster is tens of megabytes, and a YAML parser needs seconds and gigabytes for it.
 * The text is already known to be valid JSON (JSON.parse accepted it). Lines are indexed once, and the
 * offsets of a top-level List's items are recorded once, so a lookup scans only the one item it needs.
 */
export class JsonLocator {
  private lineStarts: number[] | undefined;
  private itemStarts: number[] | undefined;

  constructor(private readonly text: string) {}

  locate(path: readonly FieldKey[]): Position {
    let offset = skipSpace(this.text, 0);
    let rest = path;
    if (path[0] === 'items' && typeof path[1] === 'number') {
      const start = this.items()[path[1]];
      if (start !== undefined) {
        offset = start;
        rest = path.slice(2);
      }
    }
    for (const key of rest) {
      const next = child(this.text, offset, key);
      if (next < 0) break;
      offset = next;
    }
    return this.position(offset);
  }

  private items(): number[] {
    if (!this.itemStarts) {
      this.itemStarts = [];
      const list = child(this.text, skipSpace(this.text, 0), 'items');
      if (list >= 0 && this.text[list] === '[') {
        let at = skipSpace(this.text, list + 1);
        while (this.text[at] !== ']') {
          this.itemStarts.push(at);
          at = skipSpace(this.text, skipValue(this.text, at));
          if (this.text[at] === ',') at = skipSpace(this.text, at + 1);
        }
      }
    }
    return this.itemStarts;
  }

  private position(offset: number): Position {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1))
        this.lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.lineStarts[lo] as number) + 1 };
  }
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) break;
    i++;
  }
  return i;
}

/** The offset just past the value that starts at `at`. */
function skipValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return skipString(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    while (i < text.length && !',]} \n\r\t'.includes(text[i] as string)) i++;
    return i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = skipString(text, i) - 1;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

function skipString(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    // A quote preceded by an odd run of backslashes is escaped.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The offset of a member's value (by key) or an element (by index) of the container at `at`, or -1. */
function child(text: string, at: number, key: FieldKey): number {
  const open = text[at];
  if (open === '{' && typeof key === 'string') {
    let i = skipSpace(text, at + 1);
    while (text[i] === '"') {
      const keyEnd = skipString(text, i);
      const name = JSON.parse(text.slice(i, keyEnd)) as string;
      const value = skipSpace(text, skipSpace(text, keyEnd) + 1);
      if (name === key) return value;
      i = skipSpace(text, skipValue(text, value));
      if (text[i] === ',') i = skipSpace(text, i + 1);
    }
    return -1;
  }
  if (open === '[' && typeof key === 'number') {
    let i = skipSpace(text, at + 1);
    for (let index = 0; text[i] !== ']' && i < text.length; index++) {
      if (index === key) return i;
      i = skipSpace(text, skipValue(text, i));
      if (text[i] === ',') i = skipSpace(text, i + 1);
    }
  }
  return -1;
}
