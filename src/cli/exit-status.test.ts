import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runPhiwall } from '../testing/cli.ts';

const STACK_FRAME = /^\s+at .+:\d+:\d+/m;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLINIC = join(ROOT, 'examples', 'clinic');
const INSECURE = join(ROOT, 'examples', 'hipaa-clinic', 'insecure');
const FLOWS = join(ROOT, 'examples', 'hipaa-clinic', 'flows.csv');
const TESTS = join(ROOT, 'examples', 'clinic-tests.yaml');

const work = mkdtempSync(join(tmpdir(), 'phiwall-exit-'));
after(() => rmSync(work, { recursive: true, force: true }));
const empty = join(work, 'empty');
mkdirSync(empty);

/** The built CLI as a user runs it: a child process, its real stdout and stderr. */
function phiwall(args: readonly string[], options: { shell?: string; timeout?: number } = {}) {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: run `npm run build` first');
  const bin = join(ROOT, 'bin', 'phiwall');
  const run = options.shell
    ? spawnSync('sh', ['-c', `${options.shell} "$@"`, 'sh', process.execPath, bin, ...args], {
        encoding: 'utf8',
        cwd: work,
        timeout: options.timeout ?? 60_000,
      })
    : spawnSync(process.execPath, [bin, ...args], {
        encoding: 'utf8',
        cwd: work,
        timeout: options.timeout ?? 60_000,
      });
  assert.doesNotMatch(run.stderr, STACK_FRAME);
  assert.doesNotMatch(run.stderr, /internal error/);
  return run;
}

test('exit 0: the command ran and found nothing to report', () => {
  const run = phiwall(['connectivity', CLINIC]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /frontend\/portal/);
});

test("exit 1: the command's own verdict (findings at or above --fail-on)", () => {
  const run = phiwall(['audit', INSECURE, '--format', 'json']);
  assert.equal(run.status, 1, run.stderr);
  assert.ok(JSON.parse(run.stdout).findings.length > 0);
});

test('exit 2: no Kubernetes object in the input, for every command that reads manifests', async () => {
  const tests = join(work, 'tests.yaml');
  writeFileSync(tests, readFileSync(TESTS));
  const commands: string[][] = [
    ['connectivity', empty],
    ['explain', 'a/b', 'c/d', empty],
    ['test', empty, '--tests', tests],
    ['diff', empty, CLINIC],
    ['diff', CLINIC, empty],
    ['lint', empty],
    ['audit', empty],
    ['flows', FLOWS, empty],
    ['generate', '--from-flows', FLOWS, empty],
    ['serve', empty, '--no-open', '--port', '0'],
    ['connectivity', '-'],
  ];
  for (const args of commands) {
    const run = await runPhiwall(args, { stdin: '' });
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /no Kubernetes objects found in /, args.join(' '));
  }
  const devNull = phiwall(['audit', '/dev/null']);
  assert.equal(devNull.status, 2);
  assert.match(devNull.stderr, /^\/dev\/null: not a regular file \(a device\)/);
  const pipeline = phiwall(['connectivity', '-'], { shell: 'false | ' });
  assert.equal(pipeline.status, 2);
  assert.match(pipeline.stderr, /<input>: no Kubernetes objects found in <stdin>/);
});

test('exit 2: /dev/zero, named or on stdin, ends promptly without filling memory', () => {
  // The timeout bounds a runaway read: it is a guard, not a measurement.
  const named = phiwall(['connectivity', '/dev/zero'], { timeout: 10_000 });
  assert.equal(named.status, 2, named.stderr);
  assert.match(named.stderr, /\/dev\/zero: not a regular file \(a device\)/);
  const piped = phiwall(['connectivity', '-'], { shell: '< /dev/zero', timeout: 10_000 });
  assert.equal(piped.status, 2, piped.stderr);
  assert.match(piped.stderr, /<stdin>: binary data \(a NUL byte at byte 0\), not YAML or JSON/);
  const tests = phiwall(['test', CLINIC, '--tests', '/dev/zero'], { timeout: 10_000 });
  assert.equal(tests.status, 2, tests.stderr);
  assert.match(tests.stderr, /^\/dev\/zero: not a regular file \(a device\)/);
  const config = phiwall(['audit', CLINIC, '--config', '/dev/zero'], { timeout: 10_000 });
  assert.equal(config.status, 2, config.stderr);
  const flows = phiwall(['audit', CLINIC, '--flows', '/dev/zero'], { timeout: 10_000 });
  assert.equal(flows.status, 2, flows.stderr);
  assert.match(flows.stderr, /^\/dev\/zero: not a regular file \(a device\)/m);
  const limited = phiwall(['connectivity', CLINIC, '--max-input-bytes', '1K']);
  assert.equal(limited.status, 2);
  assert.match(limited.stderr, /the inputs hold more than 1024 bytes \(--max-input-bytes 1024\)/);
});

test('exit 2: an output onto a folder, into a missing folder, or over an input, each with its reason', () => {
  const onDir = phiwall(['audit', CLINIC, '-o', work]);
  assert.equal(onDir.status, 2);
  assert.match(onDir.stderr, new RegExp(`phiwall: ${work}: is a directory`));
  const missing = phiwall(['audit', CLINIC, '-o', join(work, 'nope', 'audit.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /phiwall: cannot write .*nope\/audit\.json: the folder .*nope does not exist/);
  const manifest = join(work, 'policies.yaml');
  writeFileSync(manifest, readFileSync(join(CLINIC, 'policies.yaml')));
  const before = readFileSync(manifest);
  const overInput = phiwall(['audit', manifest, join(CLINIC, 'workloads.yaml'), '-o', manifest]);
  assert.equal(overInput.status, 2);
  assert.match(
    overInput.stderr,
    /refusing to write the output over .*policies\.yaml: it is one of this run's inputs/,
  );
  assert.deepEqual(readFileSync(manifest), before);
});

test('exit 2: a full standard output is an environment problem, not findings and not a stack trace', () => {
  const full = phiwall(['audit', CLINIC, '--fail-on', 'never'], { shell: '> /dev/full' });
  assert.equal(full.status, 2, full.stderr);
  assert.match(full.stderr, /phiwall: cannot write to standard output: no space left on device/);
});

test('exit 2: a failed write (a file-size limit) leaves the previous report byte-identical', () => {
  const report = join(work, 'audit.html');
  writeFileSync(report, 'the previous good report\n');
  const before = readFileSync(report);
  // ulimit -f counts 512-byte blocks: the HTML report is far larger than one.
  const run = phiwall(['audit', CLINIC, '--format', 'html', '--fail-on', 'never', '-o', report], {
    shell: 'ulimit -f 1;',
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /phiwall: file too large \(a file-size limit\) writing .*audit\.html/);
  assert.deepEqual(readFileSync(report), before);
  assert.deepEqual(
    execFileSync('ls', ['-A', work], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('exit 2: a folder phiwall may not read names the folder and the reason', (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: permissions do not stop root');
    return;
  }
  const locked = join(work, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0);
  try {
    const run = phiwall(['connectivity', locked]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /locked: permission denied/);
  } finally {
    chmodSync(locked, 0o755);
  }
});

test('exit 2: serve on a port in use says to pass --port', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    // The timeout kills a child that served after all, so that a failing test cannot hang the suite.
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'phiwall'), 'serve', CLINIC, '--port', String(port), '--no-open'],
      { timeout: 60_000 },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`phiwall: port ${port} is in use: pass --port`));
    assert.doesNotMatch(stderr, STACK_FRAME);
  } finally {
    server.close();
  }
});

test('exit 2: arguments out of order, and a revision git does not know, each in one line', async () => {
  const explain = await runPhiwall(['explain', CLINIC, 'frontend/portal', 'records/api']);
  assert.equal(explain.code, 2);
  assert.equal(
    explain.stderr,
    `phiwall: "${CLINIC}" is a path where a workload belongs: the arguments are out of order; explain takes FROM TO [PATHS...], e.g. phiwall explain frontend/portal records/api k8s/\n`,
  );
  const diff = await runPhiwall(['diff', '--base', 'no-such-revision', CLINIC]);
  assert.equal(diff.code, 2);
  assert.match(diff.stderr, /^phiwall: --base no-such-revision: git does not know this revision in .+\n$/);
});
