import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSource } from './documents.ts';

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
