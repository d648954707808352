import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SMALL_CLUSTER } from '../report/audit-fixtures.ts';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'phiwall-audit-formats-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cluster = join(dir, 'cluster.yaml');
writeFileSync(cluster, SMALL_CLUSTER);

async function audit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = { code: -1, stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => {
      result.stdout += text;
    },
    stderr: (text) => {
      result.stderr += text;
    },
    readStdin: () => {
      throw new Error('no stdin in these tests');
    },
  };
  result.code = await runCli(['audit', cluster, '--fail-on', 'never', ...args], io);
  return result;
}

test('audit writes each report format', async () => {
  const expectations: [string, RegExp][] = [
    ['md', /^## phiwall HIPAA network-segmentation audit: /],
    ['html', /^<!doctype html>[\s\S]*<svg class="flow-map"[\s\S]*<\/html>\n$/],
    [
      'sarif',
      /^\{\n {2}"\$schema": "https:\/\/json\.schemastore\.org\/sarif-2\.1\.0\.json",\n {2}"version": "2\.1\.0"/,
    ],
    ['junit', /^<\?xml version="1\.0" encoding="UTF-8"\?>[\s\S]*<testsuites name="phiwall audit"/],
  ];
  for (const [format, shape] of expectations) {
    const r = await audit('--format', format);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, shape, format);
  }
});

test('the html report draws the computed flows into the PHI workload', async () => {
  const r = await audit('--format', 'html');
  // db-in admits every namespace's pods on 5432, so the web Deployment reaches the PHI database.
  assert.match(
    r.stdout,
    /<path class="edge inbound"[^>]*><title>shop\/web\[Deployment\] -&gt; phi\/db\[Deployment\] TCP 5432<\/title>/,
  );
});

test('--output writes the chosen format to the file', async () => {
  const out = join(dir, 'audit.sarif');
  const r = await audit('--format', 'sarif', '--output', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const sarif = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(sarif.runs[0].tool.driver.name, 'phiwall');
  assert.equal(sarif.runs[0].artifacts[0].location.uri.endsWith('cluster.yaml'), true);
});

test('an unknown format is a usage error', async () => {
  const r = await audit('--format', 'pdf');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /text, json, md, html, sarif, junit/);
});
