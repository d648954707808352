import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.ts';

// The README's worked example must be what the CLI really prints on the shipped examples.
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const blocks = [...readme.matchAll(/```console\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const sessions = blocks.map((block) => {
  const [, command = '', expected = ''] = /^\$ \.\/bin\/phiwall (.*)\n([\s\S]*)$/.exec(block) ?? [];
  return { args: command.split(' '), expected };
});

test('every console block of the README is a phiwall session this file checks, by name', () => {
  // Written out so that a block that stops matching (and so stops being checked) fails here.
  assert.deepEqual(
    sessions.map(({ args }) => args.slice(0, 2).join(' ')),
    [
      'connectivity examples/clinic',
      'explain frontend/portal',
      'explain billing/invoices',
      'test examples/clinic',
      'audit examples/hipaa-clinic/insecure',
      'flows examples/hipaa-clinic/flows.csv',
      'generate --from-flows',
    ],
  );
});

for (const { args, expected } of sessions) {
  test(`README: phiwall ${args.join(' ')}`, async () => {
    process.chdir(root);
    let stdout = '';
    const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: () => {}, readStdin: () => '' });
    assert.equal(code, 0);
    assert.equal(stdout, expected);
  });
}
