import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.ts';

// The shipped scenario (examples/diff-scenario): lint must flag the half-open flow the change makes.
const scenario = fileURLToPath(new URL('../../examples/diff-scenario/', import.meta.url));

async function run(args: string[]) {
  let stdout = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: () => {}, readStdin: () => '' });
  return { code, stdout };
}

test('lint flags the half-open flow of the changed policies, and not before the change', async () => {
  const after = await run(['lint', `${scenario}after`]);
  assert.equal(after.code, 1);
  assert.match(
    after.stdout,
    /error PW-LINT-005: shop\/web-egress#spec\.egress\[0\] lets shop\/web\[Deployment\] connect to shop\/api\[Deployment\] on TCP 8080/,
  );
  const before = await run(['lint', `${scenario}before`]);
  assert.equal(before.code, 0);
  assert.doesNotMatch(before.stdout, /PW-LINT-005/);
});
