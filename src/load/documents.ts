import type { Document, LineCounter, Node } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { countKeyTokens, firstRepeatedKey, looksLikeJson } from './json-key-tokens.ts';
import { JsonLocator } from './json-locate.ts';
import { yaml } from './lazy-modules.ts';
import type { SourceText } from './sources.ts';

export interface Position {
  line: number;
  column: number;
}

export type FieldKey = string | number;

/** One YAML document (or JSON file) as plain data, able to find the source position of any field in it. */
export interface ParsedDocument {
  file: string;
  value: unknown;
  locate(path: readonly FieldKey[]): Position;
}

/**
 * Parses one source. JSON takes the fast native parser, and source positions are computed only when a
 * message needs one: `kubectl get -o json` dumps of large clusters are read far more often than they err.
 */
export function parseSource(source: SourceText): { documents: ParsedDocument[]; errors: Diagnostic[] } {
  if (looksLikeJson(source.path, source.text)) {
    // Windows tools (PowerShell's `Out-File -Encoding utf8`) start files with a BOM that JSON.parse rejects.
    const text = source.text.replace(/^\uFEFF/, '');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (source.path.toLowerCase().endsWith('.json'))
        return { documents: [], errors: [jsonError(source.path, text, error)] };
      // Flow-style YAML starting with a brace: let the YAML parser judge it.
    }
    if (value !== undefined) {
      // JSON.parse keeps the last of two equal keys; YAML, and the API server, reject them.
      // The count made beside the parse, in the background, decides when it agrees; otherwise this
      // thread counts the text it parsed (the file may have changed between the two reads).
      const keys = countKeys(value);
      if (source.keyTokens?.() !== keys && countKeyTokens(text) !== keys)
        return duplicateJsonKey(source.path, text);
      return { documents: [jsonDocument({ path: source.path, text }, value)], errors: [] };
    }
  }
  // The YAML parser recurses: a document nested thousands deep (`[[[[…`) exhausts its stack, or memory.
  const deep = tooDeep(source.text);
  if (deep !== undefined) {
    const message = `invalid YAML: nested more than ${MAX_FLOW_DEPTH} levels deep`;
    const at = positionAt(source.text, deep);
    return { documents: [], errors: [{ severity: 'error', file: source.path, ...at, message }] };
  }
  return parseYaml(source);
}

/** Far beyond any manifest, far below what the YAML parser's recursion survives. */
const MAX_FLOW_DEPTH = 1000;

/** The offset where flow brackets (`[`, `{`) outside double quotes open more than MAX_FLOW_DEPTH deep. */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if (c === 93 || c === 125) {
      if (depth > 0) depth--;
    } else if (c === 34) {
      let end = text.indexOf('"', i + 1);
      while (end > 0 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end < 0) return undefined;
      i = end;
    }
  }
  return undefined;
}

/** Keys in a parsed JSON value, counted without recursion: JSON.parse accepts any depth. */
function countKeys(root: unknown): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    for (const key in value) {
      count++;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return count;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(quote - 1 - backslashes) === 92 /* \\ */) backslashes++;
  return backslashes % 2 === 1;
}

/** Rare, so a second pass over the text is worth its cost to say where the repeated key is. */
function duplicateJsonKey(file: string, text: string): { documents: ParsedDocument[]; errors: Diagnostic[] } {
  const offset = firstRepeatedKey(text);
  const message = 'invalid JSON: duplicate key (a key may appear once in an object)';
  if (offset === undefined) return { documents: [], errors: [{ severity: 'error', file, message }] };
  return { documents: [], errors: [{ severity: 'error', file, ...positionAt(text, offset), message }] };
}

function jsonDocument(source: SourceText, value: unknown): ParsedDocument {
  let locator: JsonLocator | undefined;
  return {
    file: source.path,
    value,
    locate(path) {
      locator ??= new JsonLocator(source.text);
      return locator.locate(path);
    },
  };
}

function jsonError(file: string, text: string, error: unknown): Diagnostic {
  const message = error instanceof Error ? error.message : String(error);
  const offset = /position (\d+)/.exec(message)?.[1];
  // V8 gives no position for some errors (`Unexpected token '}', ... is not valid JSON`): none beats 1:1.
  if (offset === undefined) return { severity: 'error', file, message: `invalid JSON: ${message}` };
  return {
    severity: 'error',
    file,
    ...positionAt(text, Number(offset)),
    message: `invalid JSON: ${message}`,
  };
}

/** The line and column (from 1) of an offset, for the errors found by scanning the text itself. */
function positionAt(text: string, offset: number): Position {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  const lineStart = offset === 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
  return { line, column: offset - lineStart + 1 };
}

/**
 * Parses a YAML stream one document at a time, keeping each document's value and source range but not
 * its syntax tree: a tree costs tens of times its text, and a manifest of a quarter million pods
 * retained them all. A position is asked for rarely (messages, provenance), so the one document it
 * falls in is parsed again then, and kept.
 */
function parseYaml(source: SourceText): { documents: ParsedDocument[]; errors: Diagnostic[] } {
  const { Composer, LineCounter, Parser } = yaml();
  const lines = new LineCounter();
  const composer = new Composer({ uniqueKeys: true });
  const errors: Diagnostic[] = [];
  const documents: ParsedDocument[] = [];
  const tokens = new Parser(lines.addNewLine).parse(source.text);
  for (const doc of composer.compose(tokens)) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const pos = lines.linePos(error.pos[0]);
        errors.push({
          severity: 'error',
          file: source.path,
          line: pos.line,
          column: pos.col,
          message: `invalid YAML: ${error.message.split('\n')[0]}`,
        });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      // An alias without its anchor, or so many aliases that expanding them would exhaust memory.
      if (!(error instanceof ReferenceError)) throw error;
      const pos = lines.linePos(firstAlias(doc) ?? doc.range[0]);
      errors.push({
        severity: 'error',
        file: source.path,
        line: pos.line,
        column: pos.col,
        message: `invalid YAML: ${error.message.startsWith('Excessive') ? 'too many aliases (more than 1000 expansions): a resource exhaustion attack or a mistake' : error.message}`,
      });
      continue;
    }
    const [start, , end] = doc.range;
    // Kept once parsed again: a document asked for one position is often asked for many (a diff's rules).
    let tree: Document | undefined;
    documents.push({
      file: source.path,
      value,
      locate: (path) => {
        tree ??= reparse(source.text, start, end);
        return locateIn(tree, start, lines, path);
      },
    });
  }
  return { documents, errors };
}

/** One document of a stream parsed again on its own; node offsets are relative to `start`. */
function reparse(text: string, start: number, end: number): Document {
  const { parseDocument } = yaml();
  return parseDocument(text.slice(start, end), { prettyErrors: false });
}

/** The offset of the first alias that names no earlier anchor, else of the first alias. */
function firstAlias(doc: Document): number | undefined {
  const { visit } = yaml();
  const anchors = new Set<string>();
  let first: number | undefined;
  let unresolved: number | undefined;
  visit(doc, {
    Node(_, node) {
      if (node.anchor) anchors.add(node.anchor);
    },
    Alias(_, node) {
      first ??= node.range?.[0];
      if (!anchors.has(node.source)) {
        unresolved = node.range?.[0];
        return visit.BREAK;
      }
    },
  });
  return unresolved ?? first;
}

/**
 * The position of the deepest node on `path` that exists, so a missing field points at its parent.
 * `doc` was parsed from the text at `offset`, and `lines` counts the lines of the whole text.
 */
function locateIn(doc: Document, offset: number, lines: LineCounter, path: readonly FieldKey[]): Position {
  const { isCollection, isMap, isScalar, isSeq } = yaml();
  let node: Node | null | undefined = doc.contents as Node | null;
  let best = node;
  let bestKey: Node | undefined;
  for (const key of path) {
    let keyNode: Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
      keyNode = pair?.key as Node | undefined;
      node = (pair?.value ?? pair?.key) as Node | null | undefined;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as Node | null | undefined;
    } else {
      break;
    }
    if (!node?.range) break;
    best = node;
    bestKey = keyNode;
  }
  // A block collection starts on the line after its key (`ingres:` then `- from: …`): point at the key.
  const at = isCollection(best) && !best.flow && bestKey?.range ? bestKey : best;
  const pos = lines.linePos(offset + (at?.range?.[0] ?? 0));
  return { line: pos.line, column: pos.col };
}
