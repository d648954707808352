import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GROUPING_THRESHOLD } from './connectivity.ts';
import { runCli } from './main.ts';

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

/** `count` one-pod workloads in namespace `big`, all alike, none isolated. */
function manyWorkloads(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-group-'));
  const items = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'big', labels: { app: 'same' } },
    spec: { containers: [{ name: 'c' }] },
  }));
  const file = join(dir, 'pods.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return file;
}

test('--group-by class describes each group and connects groups', async () => {
  const r = await run(['connectivity', 'examples/clinic', '--group-by', 'class']);
  assert.equal(r.code, 0);
  const portal =
    /^ {2}(G\d+): 1 pod in 1 workload \(frontend\/portal\[Deployment\]\); namespaces: frontend; labels: app=portal, tier=web$/m.exec(
      r.stdout,
    )?.[1];
  const api = /^ {2}(G\d+): 1 pod in 1 workload \(records\/api\[Deployment\]\)/m.exec(r.stdout)?.[1];
  assert.ok(portal && api, r.stdout);
  assert.match(r.stdout, new RegExp(`^ {2}${portal} => ${api} : TCP 8443$`, 'm'));
});

test('text output switches to groups above the threshold and says so; json keeps the contract', async () => {
  const file = manyWorkloads(GROUPING_THRESHOLD + 1);
  const text = await run(['connectivity', file]);
  assert.equal(text.code, 0);
  assert.match(
    text.stdout,
    /^# 501 workloads: grouped by class for reading \(--group-by workload lists every pair\)$/m,
  );
  // All the pods are alike: one group, connected to itself and to the outside.
  assert.match(text.stdout, /^ {2}G1: 501 pods in 501 workloads/m);
  assert.match(text.stdout, /^ {2}G1 => G1 : all ports$/m);
  const json = JSON.parse((await run(['connectivity', file, '--format', 'json'])).stdout);
  assert.equal(
    json.connections.filter((c: { src: unknown }) => 'workload' in (c.src as object)).length > 0,
    true,
  );
  const small = await run(['connectivity', manyWorkloads(3)]);
  assert.doesNotMatch(small.stdout, /grouped by class/);
});

test('--group-by class refuses formats it cannot write, and --focus', async () => {
  const csv = await run(['connectivity', 'examples/clinic', '--group-by', 'class', '--format', 'csv']);
  assert.equal(csv.code, 2);
  assert.match(csv.stderr, /--group-by class writes text, md, json, not csv/);
  const focus = await run([
    'connectivity',
    'examples/clinic',
    '--group-by',
    'class',
    '--focus',
    'records/api',
  ]);
  assert.equal(focus.code, 2);
});
