import type { Document, LineCounter, Node } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
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
  const looksLikeJson = source.path.toLowerCase().endsWith('.json') || /^\s*[[{]/.test(source.text);
  if (looksLikeJson) {
    // Windows tools (PowerShell's `Out-File -Encoding utf8`) start files with a BOM that JSON.parse rejects.
    const text = source.text.replace(/^\uFEFF/, '');
    try {
      return { documents: [jsonDocument({ path: source.path, text }, JSON.parse(text))], errors: [] };
    } catch (error) {
      if (source.path.toLowerCase().endsWith('.json'))
        return { documents: [], errors: [jsonError(source.path, text, error)] };
      // Flow-style YAML starting with a brace: let the YAML parser judge it.
    }
  }
  return parseYaml(source);
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
  const before = text.slice(0, Number(offset)).split('\n');
  return {
    severity: 'error',
    file,
    line: before.length,
    column: (before.at(-1)?.length ?? 0) + 1,
    message: `invalid JSON: ${message}`,
  };
}

function parseYaml(source: SourceText): { documents: ParsedDocument[]; errors: Diagnostic[] } {
  const { LineCounter, parseAllDocuments } = yaml();
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
  const pos = lines.linePos(at?.range?.[0] ?? 0);
  return { line: pos.line, column: pos.col };
}
