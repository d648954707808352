import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { FieldKey } from './documents.ts';
import { JsonLocator } from './json-locate.ts';

/** Every path to a node of a parsed value, for comparing locators on all of them. */
function paths(value: unknown, prefix: FieldKey[] = []): FieldKey[][] {
  const out: FieldKey[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

/** The YAML library's position of a value: slow on large input, but an independent answer. */
function yamlPosition(text: string, path: readonly FieldKey[]) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  let node = doc.contents as Node;
  for (const key of path) {
    if (isMap(node))
      node = node.items.find((p) => (p.key as { value: unknown }).value === key)?.value as Node;
    else if (isSeq(node)) node = node.items[key as number] as Node;
  }
  const { line, col } = lines.linePos(node.range?.[0] ?? 0);
  return { line, column: col };
}

test('JSON positions agree with the YAML parser on every node of random documents', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      fc.constantFrom(0, 1, 2, '\t'),
      (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const locator = new JsonLocator(text);
        for (const path of paths(JSON.parse(text))) {
          assert.deepEqual(locator.locate(path), yamlPosition(text, path), JSON.stringify(path));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('List items are found through the item index, and a missing field points at its parent', () => {
  const text = JSON.stringify({ kind: 'List', items: [{ a: 1 }, { b: { c: [5, 6] } }] }, null, 2);
  const locator = new JsonLocator(text);
  assert.deepEqual(locator.locate(['items', 1, 'b', 'c', 1]), yamlPosition(text, ['items', 1, 'b', 'c', 1]));
  assert.deepEqual(locator.locate(['items', 1, 'b', 'missing']), yamlPosition(text, ['items', 1, 'b']));
  assert.deepEqual(locator.locate(['items', 7]), yamlPosition(text, ['items']));
});
