import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
};

const work = mkdtempSync(join(tmpdir(), 'phiwall-action-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `${{ inputs.NAME }}` as GitHub fills it in: the given value, else the input's default. */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => {
    const input = action.inputs[name];
    assert.ok(input, `the action uses an undeclared input ${name}`);
    return inputs[name] ?? input.default ?? '';
  });
}

/** Runs a `run:` step with bash as the runner does, its env expanded, and `npm` replaced by a recorder. */
function runStep(step: Step, inputs: Record<string, string>, extraPath: string[] = []) {
  assert.equal(step.shell, 'bash');
  const shims = join(work, 'shims');
  mkdirSync(shims, { recursive: true });
  writeFileSync(join(shims, 'npm'), `#!/bin/sh\necho "$@" >> "${join(work, 'npm.log')}"\n`);
  chmodSync(join(shims, 'npm'), 0o755);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PATH: [...extraPath, shims, process.env.PATH].join(':'),
    GITHUB_ACTION_PATH: ROOT.replace(/\/$/, ''),
    GITHUB_PATH: join(work, 'github-path'),
  };
  for (const [key, value] of Object.entries(step.env ?? {})) env[key] = expand(value, inputs);
  return spawnSync(
    'bash',
    ['--noprofile', '--norc', '-eo', 'pipefail', '-c', expand(step.run ?? '', inputs)],
    {
      encoding: 'utf8',
      cwd: work,
      env,
      timeout: 60_000,
    },
  );
}

test('action.yml is a composite action with the documented inputs', () => {
  assert.equal(action.runs.using, 'composite');
  for (const input of ['command', 'paths', 'args', 'sarif']) assert.ok(action.inputs[input], input);
  assert.match(action.runs.steps[0]?.uses ?? '', /^actions\/setup-node@/);
});

test("action.yml's steps, run locally: install from the action's checkout, run phiwall, upload SARIF when asked", () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: run `npm run build` first');
  const [, install, run, upload] = action.runs.steps as [Step, Step, Step, Step];

  const installed = runStep(install, {});
  assert.equal(installed.status, 0, installed.stderr);
  assert.match(
    readFileSync(join(work, 'npm.log'), 'utf8'),
    new RegExp(`^ci --prefix ${ROOT.replace(/\/$/, '')} `),
  );
  const path = readFileSync(join(work, 'github-path'), 'utf8').trim().split('\n');
  assert.deepEqual(path, [join(ROOT, 'bin')]);

  const sarif = join(work, 'phiwall.sarif');
  const inputs = {
    command: 'audit',
    paths: join(ROOT, 'examples', 'clinic'),
    args: `--format sarif --output ${sarif} --fail-on never`,
    sarif,
  };
  const ran = runStep(run, inputs, path);
  assert.equal(ran.status, 0, ran.stderr);
  assert.equal(JSON.parse(readFileSync(sarif, 'utf8')).version, '2.1.0');

  // A verdict fails the step with phiwall's exit status.
  const failing = runStep(run, { ...inputs, args: '--fail-on low' }, path);
  assert.equal(failing.status, 1, failing.stderr);

  // Inputs are data, never script: a command substitution in them is not run.
  const marker = join(work, 'injected');
  const injected = runStep(run, { ...inputs, args: `$(touch ${marker})` }, path);
  assert.equal(injected.status, 2);
  assert.equal(existsSync(marker), false);

  assert.match(upload.uses ?? '', /^github\/codeql-action\/upload-sarif@/);
  assert.equal(expand(upload.with?.sarif_file ?? '', inputs), sarif);
  assert.match(upload.if ?? '', /inputs\.sarif != ''/);
});
