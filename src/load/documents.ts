import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  parseDocument,
} from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
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
  const looksLikeJson = source.path.toLowerCase().endsWith('.json') || /^\s*[[{]/.test(source.text);
  if (looksLikeJson) {
    try {
      return { documents: [jsonDocument(source, JSON.parse(source.text))], errors: [] };
    } catch (error) {
      if (source.path.toLowerCase().endsWith('.json'))
        return { documents: [], errors: [jsonError(source, error)] };
      // Flow-style YAML starting with a brace: let the YAML parser judge it.
    }
  }
  return parseYaml(source);
}

function jsonDocument(source: SourceText, value: unknown): ParsedDocument {
  let located: { doc: Document; lines: LineCounter } | undefined;
  return {
    file: source.path,
    value,
    locate(path) {
      if (!located) {
        const lines = new LineCounter();
        located = { doc: parseDocument(source.text, { lineCounter: lines, keepSourceTokens: false }), lines };
      }
      return locateIn(located.doc, located.lines, path);
    },
  };
}

function jsonError(source: SourceText, error: unknown): Diagnostic {
  const message = error instanceof Error ? error.message : String(error);
  const offset = Number(/position (\d+)/.exec(message)?.[1] ?? 0);
  const before = source.text.slice(0, offset).split('\n');
  return {
    severity: 'error',
    file: source.path,
    line: before.length,
    column: (before.at(-1)?.length ?? 0) + 1,
    message: `invalid JSON: ${message}`,
  };
}

function parseYaml(source: SourceText): { documents: ParsedDocument[]; errors: Diagnostic[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(source.text, { lineCounter: lines, uniqueKeys: true });
  const errors: Diagnostic[] = [];
  const documents: ParsedDocument[] = [];
  // parseAllDocuments returns an EmptyStream (not an array) for input with no documents.
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const [pos] = error.linePos ?? [];
        errors.push({
          severity: 'error',
          file: source.path,
          line: pos?.line,
          column: pos?.col,
          message: `invalid YAML: ${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
        });
      }
      continue;
    }
    documents.push({
      file: source.path,
      value: doc.toJS({ maxAliasCount: 1000 }),
      locate: (path) => locateIn(doc, lines, path),
    });
  }
  return { documents, errors };
}

/** The position of the deepest node on `path` that exists, so a missing field points at its parent. */
function locateIn(doc: Document, lines: LineCounter, path: readonly FieldKey[]): Position {
  let node: Node | null | undefined = doc.contents as Node | null;
  let best = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
      node = (pair?.value ?? pair?.key) as Node | null | undefined;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as Node | null | undefined;
    } else {
      break;
    }
    if (!node?.range) break;
    best = node;
  }
  const pos = lines.linePos(best?.range?.[0] ?? 0);
  return { line: pos.line, column: pos.col };
}
