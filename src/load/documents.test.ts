import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, stringify } from 'yaml';
import { type FieldKey, parseSource } from './documents.ts';

test('multi-document YAML yields one document per `---`, empty ones as null', () => {
  const text = ['kind: A', '---', '# only a comment', '---', 'kind: B', ''].join('\n');
  const { documents, errors } = parseSource({ path: 'm.yaml', text });
  assert.deepEqual(errors, []);
  assert.deepEqual(
    documents.map((d) => d.value),
    [{ kind: 'A' }, null, { kind: 'B' }],
  );
  assert.deepEqual(documents[2]?.locate(['kind']), { line: 5, column: 7 });
  assert.equal(documents[0]?.file, 'm.yaml');
});

test('input with no documents at all parses to nothing, without errors', () => {
  assert.deepEqual(parseSource({ path: 'e.yaml', text: '' }), { documents: [], errors: [] });
  assert.deepEqual(parseSource({ path: 'e.yaml', text: '# nothing\n' }).errors, []);
});

test('locate finds mapping keys and sequence items, and a missing field points at its nearest parent', () => {
  const text = [
    'spec:', //
    '  ingress:',
    '    - from:',
    '        - ipBlock: {cidr: 10.0.0.0/8}',
  ].join('\n');
  const [doc] = parseSource({ path: 'p.yaml', text }).documents;
  assert.ok(doc);
  assert.deepEqual(doc.locate(['spec', 'ingress', 0, 'from', 0, 'ipBlock', 'cidr']), { line: 4, column: 27 });
  assert.deepEqual(doc.locate(['spec', 'ingress', 0]), { line: 3, column: 7 });
  assert.deepEqual(doc.locate(['spec', 'ingress', 0, 'ports', 0]), { line: 3, column: 7 });
  assert.deepEqual(doc.locate([]), { line: 1, column: 1 });
});

test('a field holding a block collection is located at its key, which is on the line before the value', () => {
  const text = [
    'spec:', //
    '  ingres:',
    '    - from: [{podSelector: {}}]',
    '  podSelector: {matchLabels: {}}',
  ].join('\n');
  const [doc] = parseSource({ path: 'p.yaml', text }).documents;
  assert.ok(doc);
  assert.deepEqual(doc.locate(['spec', 'ingres']), { line: 2, column: 3 });
  assert.deepEqual(doc.locate(['spec', 'ingres', 7]), { line: 2, column: 3 });
  assert.deepEqual(doc.locate(['spec', 'missing']), { line: 1, column: 1 });
  // Flow collections start on their key's line: the value itself is the better place.
  assert.deepEqual(doc.locate(['spec', 'ingres', 0, 'from']), { line: 3, column: 13 });
  assert.deepEqual(doc.locate(['spec', 'podSelector']), { line: 4, column: 16 });
});

test('a YAML syntax error is positioned, and the file’s other documents still parse', () => {
  const text = ['kind: A', '---', 'metadata:', '  labels: [a, b', 'kind: B'].join('\n');
  const { documents, errors } = parseSource({ path: 'bad.yaml', text });
  assert.deepEqual(
    documents.map((d) => d.value),
    [{ kind: 'A' }],
  );
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.severity, 'error');
  assert.equal(errors[0]?.file, 'bad.yaml');
  assert.equal(errors[0]?.line, 5);
  assert.equal(errors[0]?.column, 1);
  assert.match(errors[0]?.message ?? '', /^invalid YAML: Flow sequence .* end with a \]$/);
});

test('a repeated key is an error, not a silent overwrite', () => {
  const text = ['metadata:', '  name: a', '  name: b'].join('\n');
  const { documents, errors } = parseSource({ path: 'dup.yaml', text });
  assert.deepEqual(documents, []);
  assert.deepEqual(errors, [
    {
      severity: 'error',
      file: 'dup.yaml',
      line: 3,
      column: 3,
      message: 'invalid YAML: Map keys must be unique',
    },
  ]);
});

test('JSON parses natively and still locates fields', () => {
  const text = '{\n  "kind": "Pod",\n  "metadata": {"name": "p"}\n}\n';
  const { documents, errors } = parseSource({ path: 'pod.json', text });
  assert.deepEqual(errors, []);
  assert.deepEqual(documents[0]?.value, { kind: 'Pod', metadata: { name: 'p' } });
  assert.deepEqual(documents[0]?.locate(['metadata', 'name']), { line: 3, column: 24 });
});

test('a JSON syntax error is placed at the offset the parser names', () => {
  const { documents, errors } = parseSource({ path: 'bad.json', text: '{\n  "a": 1,\n}' });
  assert.deepEqual(documents, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.line, 3);
  assert.equal(errors[0]?.column, 1);
  assert.match(errors[0]?.message ?? '', /^invalid JSON: .*position 12/);
});

test('a JSON syntax error without an offset in the message gets no position rather than a wrong one', () => {
  const { errors } = parseSource({ path: 'bad.json', text: '\n\n[1, ]' });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.line, undefined);
  assert.equal(errors[0]?.column, undefined);
  assert.match(errors[0]?.message ?? '', /^invalid JSON: Unexpected token/);
});

test('a JSON file may start with a byte order mark', () => {
  const { documents, errors } = parseSource({ path: 'bom.json', text: '\uFEFF{"kind": "Pod"}' });
  assert.deepEqual(errors, []);
  assert.deepEqual(documents[0]?.value, { kind: 'Pod' });
  assert.deepEqual(documents[0]?.locate(['kind']), { line: 1, column: 10 });
});

test('a .yaml file in flow style that is not JSON goes to the YAML parser', () => {
  const { documents, errors } = parseSource({ path: 'flow.yaml', text: '{kind: Pod, metadata: {name: p}}' });
  assert.deepEqual(errors, []);
  assert.deepEqual(documents[0]?.value, { kind: 'Pod', metadata: { name: 'p' } });
});

test('a .json file that is only valid as YAML is still a JSON error', () => {
  const { documents, errors } = parseSource({ path: 'flow.json', text: '{kind: Pod}' });
  assert.deepEqual(documents, []);
  assert.match(errors[0]?.message ?? '', /^invalid JSON:/);
});

test('a repeated key in JSON is an error at the repeated key, as in YAML', () => {
  const text = '{\n  "kind": "Pod",\n  "metadata": {"name": "a", "name": "b"}\n}\n';
  const { documents, errors } = parseSource({ path: 'd.json', text });
  assert.deepEqual(documents, []);
  assert.deepEqual(errors, [
    {
      severity: 'error',
      file: 'd.json',
      line: 3,
      column: 29,
      message: 'invalid JSON: duplicate key (a key may appear once in an object)',
    },
  ]);
  // Keys in strings, escaped quotes and colons inside values are not keys.
  const tricky = '{"a": "x\\": y", "b": ["c:", {"d\\"": 1}], "e": {}}';
  assert.deepEqual(parseSource({ path: 't.json', text: tricky }).errors, []);
});

test('an alias without its anchor, or too many aliases, is an input error at the alias', () => {
  const undefinedAlias = parseSource({ path: 'a.yaml', text: 'kind: Pod\nmetadata:\n  labels: *common\n' });
  assert.deepEqual(undefinedAlias.errors, [
    {
      severity: 'error',
      file: 'a.yaml',
      line: 3,
      column: 11,
      message: 'invalid YAML: Unresolved alias (the anchor must be set before the alias): common',
    },
  ]);
  const row = (name: string, of: string) => `${name}: &${name} [${Array(10).fill(`*${of}`).join(', ')}]`;
  const laughs = ['a: &a [lol]', row('b', 'a'), row('c', 'b'), row('d', 'c'), row('e', 'd')].join('\n');
  const { errors } = parseSource({ path: 'l.yaml', text: laughs });
  assert.equal(errors.length, 1);
  assert.deepEqual([errors[0]?.line, errors[0]?.column], [2, 8]);
  assert.match(errors[0]?.message ?? '', /too many aliases/);
});

test('input nested deeper than the parser can follow is an error, in YAML and in JSON', () => {
  assert.deepEqual(parseSource({ path: 'n.yaml', text: `a:\n  b: ${'['.repeat(100_000)}` }).errors, [
    {
      severity: 'error',
      file: 'n.yaml',
      line: 2,
      column: 1006,
      message: 'invalid YAML: nested more than 1000 levels deep',
    },
  ]);
  // Brackets in quoted strings do not nest.
  const quoted = `a: "${'['.repeat(2000)}"\n`;
  assert.deepEqual(parseSource({ path: 'q.yaml', text: quoted }).documents[0]?.value, {
    a: '['.repeat(2000),
  });
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.deepEqual(parseSource({ path: 'n.json', text: deep }).errors, []);
});

/** Paths to the scalar leaves of a value: where a position is a scalar's own start. */
function leafPaths(value: unknown, prefix: FieldKey[] = []): FieldKey[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...prefix, i]));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  return [prefix];
}

test('a document located after the stream is parsed agrees with the whole stream parsed at once', () => {
  // The reference: every document's syntax tree kept from one parse of the whole text, as before.
  const whole = (text: string, index: number, path: readonly FieldKey[]) => {
    const lines = new LineCounter();
    const doc = parseAllDocuments(text, { lineCounter: lines })[index];
    let node = doc?.contents as Node | null | undefined;
    for (const key of path) {
      if (isMap(node)) node = node.items.find((p) => isScalar(p.key) && p.key.value === key)?.value as Node;
      else if (isSeq(node)) node = node.items[key as number] as Node;
    }
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return { line, column: col };
  };
  // Values as JSON spells them: jsonValue yields -0, which YAML keeps and JSON turns into 0.
  const value = fc
    .dictionary(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/),
      fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 6 })),
      { minKeys: 1, maxKeys: 4 },
    )
    .map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
  const separator = fc.constantFrom('---\n', '--- # next\n', '...\n---\n', '\n# between\n---\n');
  const style = fc.record({
    indent: fc.constantFrom(1, 2, 4),
    collectionStyle: fc.constantFrom('any', 'block', 'flow') as fc.Arbitrary<'any' | 'block' | 'flow'>,
  });
  fc.assert(
    fc.property(fc.array(fc.tuple(value, separator, style), { minLength: 1, maxLength: 5 }), (docs) => {
      const text = docs.map(([v, sep, options], i) => `${i > 0 ? sep : ''}${stringify(v, options)}`).join('');
      const { documents, errors } = parseSource({ path: 'r.yaml', text });
      assert.deepEqual(errors, []);
      assert.equal(documents.length, docs.length);
      for (const [i, document] of documents.entries()) {
        assert.deepEqual(document.value, docs[i]?.[0]);
        for (const path of leafPaths(document.value)) {
          assert.deepEqual(
            document.locate(path),
            whole(text, i, path),
            `document ${i} ${JSON.stringify(path)}`,
          );
        }
      }
    }),
    { numRuns: 200 },
  );
});
