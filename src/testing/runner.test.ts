import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Without this, node:test in the child believes it runs inside this test and runs no file.
const { NODE_TEST_CONTEXT: _parentRun, ...env } = process.env;

test('the test runner fails, and does not wait on, a test that left a server listening or never ends', () => {
  const run = spawnSync(
    process.execPath,
    [
      'scripts/run-tests.mjs',
      'src/testing/fixtures/leaky-server.fixture.ts',
      'src/testing/fixtures/hanging.fixture.ts',
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...env, PHIWALL_TEST_TIMEOUT_MS: '5000' },
      // Only this test's own guard: a child run that hangs is killed here, and fails the assertion below.
      timeout: 120_000,
    },
  );
  assert.equal(run.signal, null, `the child run hung and was killed\n${run.stdout}`);
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /^not ok \d+ - a failing assertion with a watching server left listening$/m);
  assert.match(run.stdout, /planted failure/);
  assert.match(run.stdout, /^ok \d+ - a test after them still runs$/m);
  assert.match(run.stdout, /^not ok \d+ - \S*hanging\.fixture\.ts\n[\s\S]*?test timed out after 5000ms/m);
  assert.match(run.stdout, /^# pass 1$/m);
  assert.match(run.stdout, /^# fail 1$/m);
  assert.match(run.stdout, /^# cancelled 1$/m);
});
