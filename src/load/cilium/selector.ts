import type { CiliumSelector } from '../../model/cilium.ts';
import type { SelectorOperator } from '../../model/types.ts';
import type { FieldKey } from '../documents.ts';
import { labelKeyProblem } from '../names.ts';
import type { ObjectReader } from '../object-reader.ts';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Label sources Cilium knows; a key without one matches any source (`any:`). */
const SOURCES = ['any', 'k8s', 'reserved', 'container', 'cni', 'unspec', 'cidr', 'fqdn', 'cilium-generated'];

/**
 * `k8s:app` → `k8s:app`, `app` → `any:app`. Cilium reads the text before the first `:` as the source
 * only when it is followed by more text; the key part is then checked as a Kubernetes label key
 * (reserved keys such as `reserved:host` are plain names).
 */
function sourcedKey(reader: ObjectReader, key: string, path: readonly FieldKey[]): string {
  const colon = key.indexOf(':');
  const [source, name] = colon > 0 ? [key.slice(0, colon), key.slice(colon + 1)] : ['any', key];
  if (!SOURCES.includes(source)) {
    reader.error(path, `unknown label source "${source}" in "${key}": use ${SOURCES.join(', ')} or none`);
    return `${source}:${name}`;
  }
  const problem = name === '' ? 'must not be empty' : labelKeyProblem(name);
  if (problem) reader.error(path, `invalid label key "${key}": ${problem}`);
  return `${source}:${name}`;
}

/** An EndpointSelector (a Kubernetes label selector whose keys may name a label source). */
export function readCiliumSelector(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
): CiliumSelector {
  const fields = reader.fields(value, path) ?? {};
  reader.onlyKnownFields(fields, path, ['matchLabels', 'matchExpressions']);
  const matchLabels: Record<string, string> = {};
  for (const [key, raw] of Object.entries(
    reader.fields(fields.matchLabels, [...path, 'matchLabels']) ?? {},
  )) {
    const at = [...path, 'matchLabels', key];
    if (typeof raw !== 'string') {
      reader.error(at, `label value must be a string, not ${JSON.stringify(raw)} (quote it)`);
      continue;
    }
    matchLabels[sourcedKey(reader, key, at)] = raw;
  }
  const matchExpressions: CiliumSelector['matchExpressions'][number][] = [];
  (reader.list(fields.matchExpressions, [...path, 'matchExpressions']) ?? []).forEach((raw, i) => {
    const at = [...path, 'matchExpressions', i];
    const expression = reader.fields(raw, at);
    if (!expression) return;
    reader.onlyKnownFields(expression, at, ['key', 'operator', 'values']);
    const key = sourcedKey(reader, reader.string(expression.key, [...at, 'key']) ?? '', [...at, 'key']);
    const operator = expression.operator as SelectorOperator;
    if (!OPERATORS.includes(operator)) {
      reader.error(
        [...at, 'operator'],
        `unsupported operator ${JSON.stringify(expression.operator)}: use ${OPERATORS.join(', ')}`,
      );
      return;
    }
    const values = (reader.list(expression.values, [...at, 'values']) ?? []).map((v, j) => {
      if (typeof v !== 'string')
        reader.error([...at, 'values', j], `must be a string, not ${JSON.stringify(v)}`);
      return String(v);
    });
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0)
      reader.error([...at, 'values'], `must be specified when operator is ${operator}`);
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0)
      reader.error([...at, 'values'], `may not be specified when operator is ${operator}`);
    matchExpressions.push({ key, operator, values });
  });
  return { matchLabels, matchExpressions };
}

/** Whether the selector names a key of this name, from a source that can carry it (`k8s` or `any`). */
export function selectorHasKey(selector: CiliumSelector, name: string): boolean {
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  return keys.includes(`k8s:${name}`) || keys.includes(`any:${name}`);
}

export function selectorHasSource(selector: CiliumSelector, source: string): boolean {
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  return keys.some((k) => k.startsWith(`${source}:`));
}
