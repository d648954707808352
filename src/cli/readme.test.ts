import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.ts';

// The README's worked example must be what the CLI really prints on the shipped examples.
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const sessions = [...readme.matchAll(/```console\n\$ \.\/bin\/phiwall (.*)\n([\s\S]*?)```/g)].map((m) => ({
  args: (m[1] as string).split(' '),
  expected: m[2] as string,
}));

test('the README shows console sessions to check', () => {
  assert.ok(sessions.length >= 4);
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
