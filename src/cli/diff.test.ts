import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import { diffCommand } from './diff.ts';
import { type CliIo, ExitCode, UsageError } from './io.ts';
import { withEngineOptions } from './shared-options.ts';

/** What main.ts's runCli does for a registered command, so the command runs as users will run it. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => '',
  };
  const command = diffCommand(io)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const program = withEngineOptions(new Command('phiwall').exitOverride()).addCommand(command);
  let code = 0;
  try {
    await program.parseAsync(['diff', ...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof ExitCode) code = error.code;
    else if (error instanceof InputError) {
      for (const d of error.diagnostics) stderr += `${formatDiagnostic(d)}\n`;
      code = 2;
    } else if (error instanceof UsageError) {
      stderr += `phiwall: ${error.message}\n`;
      code = 2;
    } else if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else throw error;
  }
  return { code, stdout, stderr };
}

const BEFORE = 'examples/diff-scenario/before';
const AFTER = 'examples/diff-scenario/after';

const tmp = mkdtempSync(join(tmpdir(), 'phiwall-diff-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('no change: exit 0, whatever --fail-on says', async () => {
  const { code, stdout } = await run([BEFORE, BEFORE, '--fail-on', 'any']);
  assert.equal(code, 0);
  assert.match(stdout, /No change in allowed connectivity/);
});

test('--fail-on: phi fails on new PHI reachability, any on any change, never not at all', async () => {
  assert.equal((await run([BEFORE, AFTER])).code, 1, 'the default is phi');
  assert.equal((await run([BEFORE, AFTER, '--fail-on', 'never'])).code, 0);
  // Reversed, the PHI change narrows reachability: phi passes it, any does not.
  assert.equal((await run([AFTER, BEFORE, '--fail-on', 'phi'])).code, 0);
  assert.equal((await run([AFTER, BEFORE, '--fail-on', 'any'])).code, 1);
});

test('--config decides which workloads are PHI', async () => {
  const config = join(tmp, 'phiwall.yaml');
  writeFileSync(config, 'phi:\n  selectors: [{ key: tier, values: [nothing-has-this] }]\n');
  const { code, stdout } = await run([BEFORE, AFTER, '--config', config]);
  assert.equal(code, 0, 'without PHI nothing fails --fail-on phi');
  assert.doesNotMatch(stdout, /\[PHI/);
});

test('--format md writes the pull-request comment; json parses', async () => {
  const md = await run([BEFORE, AFTER, '--format', 'md']);
  assert.match(md.stdout, /^## phiwall network-policy diff: /);
  assert.match(md.stdout, /### Changes touching PHI/);
  const json = await run([BEFORE, AFTER, '--format', 'json', '--fail-on', 'never']);
  assert.equal(JSON.parse(json.stdout).changes.length, 2);
  const sarif = await run([BEFORE, AFTER, '--format', 'sarif', '--fail-on', 'never']);
  assert.equal(JSON.parse(sarif.stdout).version, '2.1.0');
});

test('bad input exits 2', async () => {
  const one = await run([BEFORE]);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /two paths/);
  const missing = await run([BEFORE, join(tmp, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
  assert.equal((await run([BEFORE, AFTER, '--fail-on', 'sometimes'])).code, 2);
  assert.equal((await run([BEFORE, AFTER, '--format', 'html'])).code, 2);
});

const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata: { name: records, labels: { data-classification: phi } }
---
apiVersion: v1
kind: Namespace
metadata: { name: other }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: records, labels: { app: db } }
spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: job, namespace: other, labels: { app: job } }
spec: { containers: [{ name: c }] }
`;

const policy = (from: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-in, namespace: records }
spec:
  podSelector: {}
  ingress:
    - from: [{ namespaceSelector: ${from} }]
`;

test('--base GITREF compares the working tree with the committed manifests, read from git', async () => {
  const repo = join(tmp, 'repo');
  mkdirSync(join(repo, 'k8s'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
  git('init', '-q');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'Test');
  git('config', 'commit.gpgsign', 'false');
  writeFileSync(join(repo, 'k8s', 'cluster.yaml'), NAMESPACES);
  writeFileSync(
    join(repo, 'k8s', 'policy.yaml'),
    policy('{ matchLabels: { kubernetes.io/metadata.name: records } }'),
  );
  writeFileSync(join(repo, 'notes.txt'), 'not a manifest');
  git('add', '.');
  git('commit', '-q', '-m', 'cluster');
  writeFileSync(join(repo, 'k8s', 'policy.yaml'), policy('{}'));

  const cwd = process.cwd();
  process.chdir(join(repo, 'k8s'));
  try {
    const { code, stdout, stderr } = await run(['--base', 'HEAD', '.']);
    assert.equal(code, 1, stderr);
    assert.match(stdout, /^phiwall diff: HEAD:\. -> \.$/m);
    assert.match(stdout, /^\[PHI\+\] other\/job\[Pod\] -> records\/db\[Pod\]: added: all ports$/m);
    assert.match(
      stdout,
      /isolated by records\/db-in \(HEAD:k8s\/policy\.yaml:\d+\)/,
      'sources named REF:path',
    );
    assert.match(stdout, /admitted by records\/db-in#spec\.ingress\[0\] \(policy\.yaml:\d+\)/);

    // From a subfolder, with no path, the folder itself is compared.
    const same = await run(['--base', 'HEAD', '--fail-on', 'never']);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /HEAD:k8s\/policy\.yaml/);

    git('commit', '-q', '-am', 'widen');
    assert.equal((await run(['--base', 'HEAD', '--fail-on', 'any'])).code, 0, 'nothing since HEAD');
    assert.equal((await run(['--base', 'HEAD~1', '--fail-on', 'any'])).code, 1);

    const badRef = await run(['--base', 'no-such-ref']);
    assert.equal(badRef.code, 2);
    assert.match(badRef.stderr, /no-such-ref/);
    const outside = await run(['--base', 'HEAD', tmpdir()]);
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /outside the git repository/);
  } finally {
    process.chdir(cwd);
  }
});

test('--base outside a git repository exits 2', async () => {
  const cwd = process.cwd();
  const plain = join(tmp, 'plain');
  mkdirSync(plain, { recursive: true });
  process.chdir(plain);
  try {
    const { code, stderr } = await run(['--base', 'HEAD']);
    assert.equal(code, 2);
    assert.match(stderr, /git rev-parse --show-toplevel failed/);
  } finally {
    process.chdir(cwd);
  }
});
