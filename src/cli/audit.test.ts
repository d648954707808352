import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAuditConfig, STARTER_CONFIG } from '../compliance/config.ts';
import { runCli } from './main.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const example = join(root, 'examples/hipaa-clinic');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  });
  return { code, stdout, stderr };
}

test('audit exits 1 on the insecure clinic, 0 on the secure one, and --fail-on never always passes', async () => {
  const config = ['--config', join(example, 'phiwall.yaml')];
  assert.equal((await run(['audit', join(example, 'insecure'), ...config])).code, 1);
  assert.equal((await run(['audit', join(example, 'insecure'), ...config, '--fail-on', 'never'])).code, 0);
  assert.equal((await run(['audit', join(example, 'secure'), ...config, '--fail-on', 'low'])).code, 0);
});

test('audit --format json writes the contract shape to --output', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'phiwall-audit-')), 'audit.json');
  const r = await run([
    'audit',
    join(example, 'secure'),
    '--config',
    join(example, 'phiwall.yaml'),
    '--format',
    'json',
    '--output',
    out,
  ]);
  assert.equal(r.stdout, '');
  const report = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(report).slice(0, 6), [
    'tool',
    'inputs',
    'config',
    'summary',
    'phi',
    'findings',
  ]);
  assert.match(report.inputs[0].sha256, /^[0-9a-f]{64}$/);
  assert.match(report.config.source.sha256, /^[0-9a-f]{64}$/);
  for (const key of ['check', 'status', 'severity', 'hipaa', 'objects', 'evidence']) {
    assert.ok(key in report.findings[0], key);
  }
  assert.equal(report.findings.length >= 32, true);
});

test('a bad config is bad input: exit 2 with a positioned message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-audit-'));
  writeFileSync(join(dir, 'phiwall.yaml'), 'maxPortRange: -1\n');
  const r = await run(['audit', join(example, 'secure'), '--config', join(dir, 'phiwall.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /phiwall\.yaml:1:15: maxPortRange: /);
});

test('init writes the starter config once, and refuses to overwrite it without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-init-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal((await run(['init'])).code, 0);
    assert.ok(existsSync('phiwall.yaml'));
    assert.deepEqual(
      parseAuditConfig('phiwall.yaml', readFileSync('phiwall.yaml', 'utf8')),
      parseAuditConfig('x', STARTER_CONFIG),
    );
    const again = await run(['init']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    assert.equal((await run(['init', '--force'])).code, 0);
  } finally {
    process.chdir(cwd);
  }
});

test('audit checks each root cause fix by default; --verify-fixes none leaves them unchecked', async () => {
  const args = ['audit', join(example, 'insecure'), '--config', join(example, 'phiwall.yaml')];
  const causes = async (extra: string[]) =>
    JSON.parse((await run([...args, '--format', 'json', '--fail-on', 'never', ...extra])).stdout)
      .rootCauses as {
      id: string;
      verification?: { status: string };
    }[];
  // records' default-deny, with allows for the approved ehr-api -> records-db flow, is fixed as written.
  const checked = await causes([]);
  assert.equal(checked.find((c) => c.id === 'default-deny:records')?.verification?.status, 'verified');
  assert.deepEqual(
    (await causes(['--verify-fixes', 'none'])).filter((c) => c.verification),
    [],
  );
  const bad = await run([...args, '--verify-fixes', 'some']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--verify-fixes/);
});
