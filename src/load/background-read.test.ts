import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readInBackground } from './background-read.ts';
import { parseSource } from './documents.ts';
import { countKeyTokens } from './json-key-tokens.ts';

/** A `kubectl get -o json`-shaped List above the size the worker takes on. */
function largeList(extraLast: string): string {
  const items = Array.from({ length: 24_000 }, (_, i) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: 'ns', labels: { app: `a${i % 7}`, note: 'x": y' } },
      spec: { containers: [{ name: 'c', image: 'registry:5000/img:1' }] },
    }),
  );
  return `{"apiVersion": "v1", "kind": "List", "items": [\n${items.join(',\n')}\n]${extraLast}}\n`;
}

test('a large JSON file is hashed and its keys counted in the background, as this thread would', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'cluster.json');
  const text = largeList('');
  writeFileSync(path, text);
  assert.ok(text.length > 4 * 1024 * 1024, 'the file must be large enough for the worker');
  const read = readInBackground(path, text.length);
  assert.ok(read, 'a large file is read in the background');
  assert.equal(read.keyTokens(), countKeyTokens(text));
  assert.equal(read.sha256(), createHash('sha256').update(readFileSync(path)).digest('hex'));
  assert.deepEqual(parseSource({ path, text, ...read }).errors, []);
});

test('a large JSON file with a repeated key at its end is rejected at that key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'cluster.json');
  const text = largeList(', "kind": "List"');
  writeFileSync(path, text);
  const { errors } = parseSource({ path, text, ...readInBackground(path, text.length) });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.message, 'invalid JSON: duplicate key (a key may appear once in an object)');
  assert.equal(errors[0]?.line, text.split('\n').length - 1);
});

test('a file changed after it was read is judged by the text that was parsed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'cluster.json');
  const parsed = largeList('');
  // The worker reads a different file (one key more): its count disagrees, so this thread counts.
  writeFileSync(path, largeList(', "extra": 1'));
  const read = readInBackground(path, parsed.length);
  assert.ok(read, 'a large file is read in the background');
  assert.notEqual(read.keyTokens(), countKeyTokens(parsed));
  assert.deepEqual(parseSource({ path, text: parsed, ...read }).errors, []);
});
