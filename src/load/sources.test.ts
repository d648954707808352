import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatDiagnostic, InputError } from './diagnostics.ts';
import { loadSnapshot } from './snapshot.ts';
import { readSources, readStdinText } from './sources.ts';

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

/** A repository as people point phiwall at it: manifests beside everything else a repository holds. */
function repoFixture(): string {
  const repo = mkdtempSync(join(tmpdir(), 'phiwall-repo-'));
  const put = (path: string, text: string) => {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), text);
  };
  put('k8s/app.yaml', pod('app'));
  put(
    'k8s/list.json',
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(podJson('db'))] }),
  );
  put('chart/Chart.yaml', 'apiVersion: v2\nname: shop\nversion: 1.0.0\n');
  put('chart/values.yaml', 'replicas: 2\n');
  put('chart/templates/deployment.yaml', 'replicas: {{ .Values.replicas }}\n');
  put('overlay/kustomization.yaml', 'resources: [../k8s/app.yaml]\n');
  put('.github/workflows/ci.yml', 'on: push\njobs: {test: {runs-on: ubuntu-latest}}\n');
  put('node_modules/left-pad/package.json', '{"name": "left-pad"}\n');
  put('.hidden/pod.yaml', pod('hidden'));
  put('package.json', '{"name": "shop", "version": "1.0.0"}\n');
  put('tsconfig.json', '{ // comments, as TypeScript allows\n "compilerOptions": {} }\n');
  put('values-prod.yaml', 'replicas: 3\n');
  put('docker-compose.yml', 'services: {db: {image: postgres}}\n');
  put('mkdocs.yml', 'site_name: Shop\n');
  put('config/settings.yaml', 'debug: true\n');
  put('config/template.yaml', 'name: {{ name }}\n  bad: [\n');
  symlinkSync(join(repo, 'nowhere.yaml'), join(repo, 'k8s', 'dangling.yaml'));
  symlinkSync(join(repo, 'k8s'), join(repo, 'k8s', 'loop'));
  execFileSync('mkfifo', [join(repo, 'k8s', 'pipe.yaml')]);
  return repo;
}

const podJson = (name: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' } });

test('a repository is read for its Kubernetes objects; everything else is skipped and said so', () => {
  const repo = repoFixture();
  try {
    const snapshot = loadSnapshot([repo]);
    assert.deepEqual(snapshot.pods.map((p) => p.name).sort(), ['app', 'db']);
    const warnings = snapshot.warnings.map(formatDiagnostic);
    assert.ok(
      warnings.includes(
        `${join(repo, 'chart')}: warning: skipped: this folder is a Helm chart; render it and pipe it in: helm template ${join(repo, 'chart')} | phiwall … -`,
      ),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.includes(
        `${join(repo, 'overlay')}: warning: skipped: this folder is a kustomization; render it and pipe it in: kubectl kustomize ${join(repo, 'overlay')} | phiwall … -`,
      ),
    );
    const summary = warnings.find((w) => w.includes('that are not Kubernetes manifests'));
    assert.ok(summary, warnings.join('\n'));
    const at = (path: string) => join(repo, path);
    for (const part of [
      'skipped 12 paths',
      `hidden folder or node_modules ×3 (${at('.github')}, ${at('.hidden')}, ${at('node_modules')})`,
      `no apiVersion and kind ×2 (${at('config/settings.yaml')}, ${at('config/template.yaml')})`,
      `compose file ×1 (${at('docker-compose.yml')})`,
      `dangling symlink ×1 (${at('k8s/dangling.yaml')})`,
      `not a regular file (FIFO, socket or device) ×1 (${at('k8s/pipe.yaml')})`,
      `JSON configuration ×2 (${at('package.json')}, ${at('tsconfig.json')})`,
      `CI or tool configuration ×1 (${at('mkdocs.yml')})`,
      `Helm values ×1 (${at('values-prod.yaml')})`,
    ]) {
      assert.ok(summary.includes(part), `${part}\nnot in\n${summary}`);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('a file given by name is read strictly, whatever a folder walk would skip', () => {
  const repo = repoFixture();
  try {
    const messages = (paths: string[]) => {
      try {
        loadSnapshot(paths);
      } catch (error) {
        assert.ok(error instanceof InputError);
        return error.diagnostics.map(formatDiagnostic);
      }
      assert.fail('expected an InputError');
    };
    assert.deepEqual(messages([join(repo, 'chart', 'Chart.yaml')]), [
      `${join(repo, 'chart', 'Chart.yaml')}:1:1: kind: required value: every object needs a kind`,
    ]);
    assert.deepEqual(messages([join(repo, 'k8s', 'pipe.yaml')]), [
      `${join(repo, 'k8s', 'pipe.yaml')}: not a regular file (a FIFO): phiwall reads files, folders, and - for standard input`,
    ]);
    assert.deepEqual(messages([join(repo, 'k8s', 'dangling.yaml')]), [
      `${join(repo, 'k8s', 'dangling.yaml')}: dangling symlink`,
    ]);
    assert.deepEqual(messages(['/dev/zero']), [
      '/dev/zero: not a regular file (a device): phiwall reads files, folders, and - for standard input',
    ]);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('no Kubernetes object in all the inputs is an error that says what was skipped', () => {
  const empty = mkdtempSync(join(tmpdir(), 'phiwall-empty-'));
  try {
    const errorOf = (paths: string[], options = {}) => {
      try {
        loadSnapshot(paths, options);
      } catch (error) {
        assert.ok(error instanceof InputError);
        return error.diagnostics.map(formatDiagnostic).join('\n');
      }
      return 'no error';
    };
    assert.equal(errorOf([empty]), `<input>: no Kubernetes objects found in ${empty}`);
    assert.equal(errorOf(['-'], { readStdin: () => '' }), '<input>: no Kubernetes objects found in <stdin>');
    writeFileSync(join(empty, 'values.yaml'), 'a: 1\n');
    writeFileSync(join(empty, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    assert.equal(
      errorOf([empty]),
      `<input>: no Kubernetes objects found in ${empty} (only kinds phiwall does not analyse: ConfigMap (v1) ×1; skipped Helm values ×1 (${join(empty, 'values.yaml')}))`,
    );
    writeFileSync(join(empty, 'Chart.yaml'), 'apiVersion: v2\nname: c\n');
    assert.match(errorOf([empty]), /is a Helm chart: render it and pipe it in: helm template /);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('--max-input-bytes stops a file or standard input that holds more', () => {
  const file = join(dir, 'a.yml');
  const tooSmall = { maxInputBytes: 10 };
  assert.deepEqual(readSources([file], tooSmall).errors.map(formatDiagnostic), [
    `${file}: the inputs hold more than 10 bytes (--max-input-bytes 10): pass a larger limit if this is meant`,
  ]);
  assert.equal(readSources([file], { maxInputBytes: 1000 }).errors.length, 0);
  const stdin = readSources(['-'], { ...tooSmall, readStdin: () => pod('x') });
  assert.equal(stdin.errors[0]?.file, '<stdin>');
});

test('standard input ends at a NUL byte or at the limit, without reading the rest', () => {
  const zero = openSync('/dev/zero', 'r');
  try {
    assert.throws(
      () => readStdinText(1 << 30, zero),
      /<stdin>: binary data \(a NUL byte at byte 0\), not YAML or JSON/,
    );
  } finally {
    closeSync(zero);
  }
  const big = join(dir, 'big.txt');
  writeFileSync(big, 'x'.repeat(3 << 20));
  const fd = openSync(big, 'r');
  try {
    assert.throws(() => readStdinText(2 << 20, fd), /more than 2097152 bytes \(--max-input-bytes\)/);
  } finally {
    closeSync(fd);
  }
});
