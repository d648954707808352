import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatDiagnostic, InputError } from './diagnostics.ts';
import { loadSnapshot } from './snapshot.ts';
import { readSources } from './sources.ts';

const pod = (name: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop}\n`;

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'phiwall-sources-'));
  mkdirSync(join(dir, 'nested', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'b.yaml'), pod('b'));
  writeFileSync(join(dir, 'a.yml'), pod('a'));
  writeFileSync(
    join(dir, 'c.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' } }),
  );
  writeFileSync(join(dir, 'z.YAML'), pod('z'));
  writeFileSync(join(dir, 'nested', 'deeper', 'd.yaml'), pod('d'));
  // Not manifests by their extension, even though their text would parse.
  writeFileSync(join(dir, 'notes.txt'), pod('txt'));
  writeFileSync(join(dir, 'README.md'), pod('md'));
  writeFileSync(join(dir, 'Makefile'), pod('makefile'));
  writeFileSync(join(dir, 'nested', 'values.yaml.bak'), pod('bak'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a folder is read recursively, manifest extensions only, in a stable order', () => {
  const { sources, errors } = readSources([dir]);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    sources.map((s) => s.path),
    [
      join(dir, 'a.yml'),
      join(dir, 'b.yaml'),
      join(dir, 'c.json'),
      join(dir, 'nested', 'deeper', 'd.yaml'),
      join(dir, 'z.YAML'),
    ],
  );
  assert.equal(sources[1]?.text, pod('b'));
});

test('a file named explicitly is read whatever its extension', () => {
  const { sources } = readSources([join(dir, 'notes.txt')]);
  assert.deepEqual(
    sources.map((s) => [s.path, s.text]),
    [[join(dir, 'notes.txt'), pod('txt')]],
  );
});

test('`-` reads stdin through the readStdin option, named <stdin>', () => {
  let reads = 0;
  const snapshot = loadSnapshot(['-', join(dir, 'a.yml')], {
    readStdin: () => {
      reads++;
      return pod('from-stdin');
    },
  });
  assert.equal(reads, 1);
  assert.deepEqual(
    snapshot.inputs.map((i) => i.path),
    ['<stdin>', join(dir, 'a.yml')],
  );
  assert.deepEqual(
    snapshot.pods.map((p) => p.name),
    ['from-stdin', 'a'],
  );
  assert.equal(snapshot.pods[0]?.provenance.file, '<stdin>');
});

test('loadSnapshot reads a folder into one snapshot', () => {
  const snapshot = loadSnapshot([dir]);
  assert.deepEqual(
    snapshot.pods.map((p) => p.workload),
    ['shop/a[Pod]', 'shop/b[Pod]', 'default/c[Pod]', 'shop/d[Pod]', 'shop/z[Pod]'],
  );
  assert.equal(snapshot.inputs.length, 5);
});

test('missing paths are errors, every one of them, before anything is parsed', () => {
  const missing = [join(dir, 'nope.yaml'), join(dir, 'gone')];
  assert.deepEqual(readSources(missing).errors, [
    { severity: 'error', file: missing[0], message: 'no such file or folder' },
    { severity: 'error', file: missing[1], message: 'no such file or folder' },
  ]);
  assert.throws(
    () => loadSnapshot([join(dir, 'a.yml'), ...missing]),
    (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.deepEqual(
        error.diagnostics.map(formatDiagnostic),
        missing.map((path) => `${path}: no such file or folder`),
      );
      return true;
    },
  );
});

test('an error in a file read from a folder is reported with that file’s path', () => {
  const bad = mkdtempSync(join(tmpdir(), 'phiwall-bad-'));
  try {
    writeFileSync(join(bad, 'ok.yaml'), pod('ok'));
    writeFileSync(join(bad, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad}\n');
    assert.throws(
      () => loadSnapshot([bad]),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.diagnostics.map(formatDiagnostic), [
          `${join(bad, 'bad.yaml')}:3:18: metadata.name: invalid name "Bad": must be a lowercase RFC 1123 subdomain (a-z, 0-9, - and .)`,
        ]);
        return true;
      },
    );
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});

test('a large file is hashed from its bytes, as sha256sum prints it', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'phiwall-hash-')), 'big.yaml');
  // Past the size where hashing moves to a worker thread, with multi-byte characters in it.
  const bytes = Buffer.from(`# ${'é'.repeat(3 * 1024 * 1024)}\n`, 'utf8');
  writeFileSync(file, bytes);
  const [source] = readSources([file]).sources;
  assert.equal(source?.sha256?.(), createHash('sha256').update(bytes).digest('hex'));
});
