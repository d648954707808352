import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { RETENTION_NOTE } from './audit.ts';
import { PLANTED, sampleReport } from './audit-fixtures.ts';
import { flowMapSvg, flowsOf, renderAuditHtml } from './audit-html.ts';

const DB = 'phi/db[Deployment]';
const FLOWS = [
  { src: PLANTED, dst: DB, ports: 'TCP 5432' },
  { src: 'shop/web[Deployment]', dst: DB, ports: 'TCP 5432' },
  { src: '0.0.0.0/0', dst: DB, ports: 'TCP 443' },
  { src: DB, dst: '10.0.0.0/8', ports: 'TCP 443' },
];

test('self-contained: no scripts, no fetches, a CSP that forbids them, print CSS', () => {
  const html = renderAuditHtml(sampleReport({ flows: FLOWS }));
  assert.doesNotMatch(html, /<script|<iframe|<object|<embed|<img|<link rel="stylesheet"|@import|url\(http/i);
  // The only absolute URL is the SVG namespace, an identifier that is never fetched.
  assert.deepEqual([...new Set(html.match(/https?:\/\/[^\s"'<)]+/g))], ['http://www.w3.org/2000/svg']);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
  assert.match(html, /@media print \{/);
});

test('the flow map, findings by HIPAA section, input and config hashes, retention note', () => {
  const report = sampleReport({ flows: FLOWS });
  const html = renderAuditHtml(report);
  assert.match(html, /<svg class="flow-map"/);
  assert.equal(html.match(/<g class="node /g)?.length, 5, 'three sources, one PHI workload, one destination');
  assert.equal(html.match(/<path class="edge (inbound|outbound)"/g)?.length, 4);
  const sections = [...html.matchAll(/<section class="hipaa-section"><h3>45 CFR ([^<]+)<\/h3>/g)].map(
    (m) => m[1],
  );
  assert.deepEqual(
    sections,
    [...sections].sort((a, b) => (a ?? '').localeCompare(b ?? '', 'en', { numeric: true })),
  );
  assert.ok(sections.includes('164.312(a)(1)') && sections.includes('164.308(a)(8)'));
  const input = report.snapshot.inputs[0];
  assert.ok(input && html.includes(input.sha256) && html.includes('<code>cluster.yaml</code>'));
  assert.ok(html.includes('c'.repeat(64)), 'the config file hash');
  assert.match(html, /Effective config \(JSON below\)<\/th><td>sha256<\/td><td><code>[0-9a-f]{64}<\/code>/);
  assert.ok(html.includes(RETENTION_NOTE.replace(/\(/g, '(')));
  assert.ok(!html.includes(PLANTED));
});

test('without structured flows the map reads HIPAA-NP-032 edges', () => {
  const report = sampleReport();
  assert.deepEqual(flowsOf(report), [
    { src: 'shop/web[Deployment]', dst: DB, ports: 'TCP 5432' },
    { src: DB, dst: '10.0.0.0/8', ports: 'TCP 443' },
  ]);
  assert.match(
    renderAuditHtml(report),
    /<path class="edge inbound"[^>]*><title>shop\/web\[Deployment\] -&gt; phi\/db/,
  );
});

test('flows between PHI workloads arc on the PHI column; an empty scope still draws a map', () => {
  const svg = flowMapSvg(
    [DB, 'phi/api[Deployment]'],
    [{ src: 'phi/api[Deployment]', dst: DB, ports: 'TCP 5432' }],
  );
  assert.equal(svg.match(/<path class="edge internal"/g)?.length, 1);
  assert.match(flowMapSvg([], []), /No PHI workloads found/);
});

const CHROMIUM = '/usr/bin/chromium';
// The machine's closed network refuses Chromium's background connections; these flags stop it trying.
// Playwright gives every launch a new empty profile, so there is no --user-data-dir here.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('in Chromium: no console errors, no requests, the planted label is text and nothing runs', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing (CI installs Debian's chromium in .ci/run)`);
    return;
  }
  const html = renderAuditHtml(sampleReport({ flows: FLOWS }));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ARGS,
  });
  t.after(async () => {
    await browser.close();
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  let own = 'about:blank';
  await page.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    return url === own || /^(about|data):/.test(url) ? route.continue() : route.abort();
  });

  await page.setContent(html, { waitUntil: 'load' });
  await page.waitForTimeout(200);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    requests.filter((url) => !/^(about|data):/.test(url)),
    [],
  );
  assert.deepEqual(dialogs, []);
  assert.equal(await page.locator('img').count(), 0, 'the planted tag did not become an element');
  assert.equal(await page.locator('svg.flow-map').count(), 1);
  const labels = await page.locator('svg.flow-map g.node text').allTextContents();
  assert.ok(labels.includes(PLANTED), `SVG labels: ${labels.join(' | ')}`);
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a reader sees
  assert.ok((await page.locator('main').innerText()).includes(PLANTED));
  const box = await page.locator('svg.flow-map').boundingBox();
  assert.ok(box && box.width > 0 && box.height > 0, 'the map is laid out');

  // Opened from disk, as an archived report is: only the file itself is loaded.
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-html-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'audit.html');
  writeFileSync(file, html);
  requests.length = 0;
  own = pathToFileURL(file).href;
  await page.goto(own, { waitUntil: 'load' });
  await page.waitForTimeout(200);
  assert.deepEqual(
    requests.filter((url) => url !== own && !/^(about|data):/.test(url)),
    [],
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(dialogs, []);

  // Printable: the print stylesheet lays out to PDF pages with the map on them.
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 10_000);
  assert.deepEqual(problems, []);
});
