import type { LabelSelector, Labels, Protocol, SelectorOperator } from '../model/types.ts';
import type { FieldKey } from './documents.ts';
import { labelKeyProblem as checkLabelKey, labelValueProblem as checkLabelValue } from './names.ts';
import type { ObjectReader } from './object-reader.ts';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const PROTOCOL_NAMES: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/**
 * Label keys and values repeat across tens of thousands of objects (`app`, `pod-template-hash`, the same
 * team names), so each distinct one is checked once.
 */
function memoized(check: (text: string) => string | undefined): (text: string) => string | undefined {
  const seen = new Map<string, string | undefined>();
  return (text) => {
    if (seen.has(text)) return seen.get(text);
    const problem = check(text);
    if (seen.size < 100_000) seen.set(text, problem);
    return problem;
  };
}

const labelKeyProblem = memoized(checkLabelKey);
const labelValueProblem = memoized(checkLabelValue);

/** metadata.labels and the like: every key and value must be valid, as the API server insists. */
export function readLabels(reader: ObjectReader, value: unknown, path: readonly FieldKey[]): Labels {
  const fields = reader.fields(value, path);
  const labels: Record<string, string> = {};
  for (const [key, raw] of Object.entries(fields ?? {})) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) reader.error([...path, key], `invalid label key "${key}": ${keyProblem}`);
    // YAML turns `version: 1` or `enabled: true` into non-strings; the API server would reject them too.
    if (typeof raw !== 'string') {
      reader.error([...path, key], `label value must be a string, not ${JSON.stringify(raw)} (quote it)`);
      continue;
    }
    const valueProblem = labelValueProblem(raw);
    if (valueProblem) reader.error([...path, key], `invalid label value "${raw}": ${valueProblem}`);
    labels[key] = raw;
  }
  return labels;
}

export function readSelector(reader: ObjectReader, value: unknown, path: readonly FieldKey[]): LabelSelector {
  const fields = reader.fields(value, path) ?? {};
  reader.onlyKnownFields(fields, path, ['matchLabels', 'matchExpressions']);
  const matchLabels = readLabels(reader, fields.matchLabels, [...path, 'matchLabels']);
  const matchExpressions: LabelSelector['matchExpressions'][number][] = [];
  const expressions = reader.list(fields.matchExpressions, [...path, 'matchExpressions']) ?? [];
  expressions.forEach((raw, i) => {
    const at = [...path, 'matchExpressions', i];
    const expression = reader.fields(raw, at);
    if (!expression) return;
    reader.onlyKnownFields(expression, at, ['key', 'operator', 'values']);
    const key = reader.string(expression.key, [...at, 'key']) ?? '';
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) reader.error([...at, 'key'], `invalid label key "${key}": ${keyProblem}`);
    const operator = expression.operator;
    if (!OPERATORS.includes(operator as SelectorOperator)) {
      reader.error(
        [...at, 'operator'],
        `unsupported operator ${JSON.stringify(operator)}: use ${OPERATORS.join(', ')}`,
      );
      return;
    }
    const rawValues = reader.list(expression.values, [...at, 'values']) ?? [];
    const values = rawValues.map((v, j) => {
      if (typeof v !== 'string')
        reader.error([...at, 'values', j], `must be a string, not ${JSON.stringify(v)}`);
      else {
        const problem = labelValueProblem(v);
        if (problem) reader.error([...at, 'values', j], `invalid label value "${v}": ${problem}`);
      }
      return String(v);
    });
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (needsValues && values.length === 0) {
      reader.error([...at, 'values'], `must be specified when operator is ${operator}`);
    }
    if (!needsValues && values.length > 0) {
      reader.error([...at, 'values'], `may not be specified when operator is ${operator}`);
    }
    matchExpressions.push({ key, operator: operator as SelectorOperator, values });
  });
  return { matchLabels, matchExpressions };
}

/** A protocol field; absent means TCP, as the API server defaults it. */
export function readProtocol(reader: ObjectReader, value: unknown, path: readonly FieldKey[]): Protocol {
  if (value === undefined || value === null) return 'TCP';
  if (PROTOCOL_NAMES.includes(value as Protocol)) return value as Protocol;
  reader.error(path, `unsupported protocol ${JSON.stringify(value)}: use TCP, UDP or SCTP`);
  return 'TCP';
}

export function isPortNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}
