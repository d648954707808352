import type { Provenance } from '../model/types.ts';
import { type Diagnostic, fieldPath } from './diagnostics.ts';
import type { FieldKey, ParsedDocument } from './documents.ts';

export type Fields = Record<string, unknown>;

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads one object of a document (the document itself, or one item of a List) and records positioned
 * problems. Field paths in messages are relative to the object, as kubectl prints them.
 */
export class ObjectReader {
  errorCount = 0;

  constructor(
    private readonly doc: ParsedDocument,
    private readonly base: readonly FieldKey[],
    private readonly diagnostics: Diagnostic[],
  ) {}

  get file(): string {
    return this.doc.file;
  }

  provenance(path: readonly FieldKey[] = []): Provenance {
    // Capture the locator, not the document: the document holds the whole parsed input, which must not
    // outlive loading just because every object keeps a way back to its lines.
    const { base } = this;
    const { file, locate } = this.doc;
    return { file, locate: () => locate([...base, ...path]) };
  }

  error(path: readonly FieldKey[], message: string): void {
    this.errorCount++;
    this.report('error', path, message);
  }

  warn(path: readonly FieldKey[], message: string): void {
    this.report('warning', path, message);
  }

  private report(severity: Diagnostic['severity'], path: readonly FieldKey[], message: string): void {
    const { line, column } = this.doc.locate([...this.base, ...path]);
    this.diagnostics.push({ severity, file: this.doc.file, line, column, field: fieldPath(path), message });
  }

  /** A mapping field; null and absent read as undefined, anything else is an error. */
  fields(value: unknown, path: readonly FieldKey[]): Fields | undefined {
    if (value === undefined || value === null) return undefined;
    if (isFields(value)) return value;
    this.error(path, `must be a mapping, not ${describe(value)}`);
    return undefined;
  }

  list(value: unknown, path: readonly FieldKey[]): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    this.error(path, `must be a list, not ${describe(value)}`);
    return undefined;
  }

  string(value: unknown, path: readonly FieldKey[]): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    this.error(path, `must be a string, not ${describe(value)}`);
    return undefined;
  }

  /** Strict field validation, as `kubectl apply` does by default: a typo must not silently change meaning. */
  onlyKnownFields(value: Fields, path: readonly FieldKey[], known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.error([...path, key], `unknown field "${key}"`);
    }
  }
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
