import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAudit } from '../compliance/audit.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import type { Finding } from '../compliance/types.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import type { WorkloadDetails } from './details.ts';
import type { Graph } from './graph.ts';
import { startServe, startServer } from './index.ts';
import { NOT_BUILT_TEXT } from './static.ts';
import { assertStrictCsp, CONFIG_FILE, clinicApp, clinicState, EXAMPLE } from './test-support.ts';

const state = await clinicState('insecure');
const { request } = clinicApp(state);
const EHR = 'ehr/ehr-api[Deployment]';
const PORTAL = 'portal/patient-portal[Deployment]';

/** A built UI in a temporary folder, with a secret beside it that must never be served. */
function webRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-web-'));
  const root = join(dir, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  writeFileSync(join(root, '.env'), 'SECRET=dotfile');
  writeFileSync(join(dir, 'secret.txt'), 'SECRET=outside');
  return root;
}

function assertSecurityHeaders(response: Response, what: string): void {
  assertStrictCsp(response, what);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', what);
}

test('GET /api/graph: the current generation of the graph', async () => {
  const response = await request('/api/graph');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const graph = (await response.json()) as Graph;
  assert.equal(graph.generation, 1);
  assert.deepEqual(graph.source, { kind: 'files', label: 'examples/hipaa-clinic/insecure' });
  assert.equal(graph.summary.workloads, 9);
  assert.ok(graph.nodes.some((n) => n.id === 'entry:Ingress/ehr/ehr'));
});

test('GET /api/workloads/:id: labels, PHI, selecting policies with positions, findings; 404 for unknown', async () => {
  const response = await request(`/api/workloads/${encodeURIComponent('records/records-db[StatefulSet]')}`);
  assert.equal(response.status, 200);
  const details = (await response.json()) as WorkloadDetails;
  assert.equal(details.id, 'records/records-db[StatefulSet]');
  assert.equal(details.kind, 'StatefulSet');
  assert.equal(details.phi, true);
  assert.equal(details.phiReason, 'namespace records has data-classification=phi');
  assert.deepEqual(
    details.policies.map((p) => [p.kind, p.namespace, p.name, p.directions]),
    [
      ['NetworkPolicy', 'records', 'records-db', ['ingress']],
      ['NetworkPolicy', 'records', 'records-backup', ['ingress']],
    ],
  );
  assert.match(details.policies[0]?.at ?? '', /30-policies\.yaml:\d+$/);
  assert.ok(details.findings.some((f) => f.check === 'HIPAA-NP-010'));
  assert.ok(details.findings.every((f) => f.objects.includes(details.id)));
  assert.equal(details.findings[0]?.status, 'fail', 'failing findings first');

  // An unencoded id works too: everything after the prefix is the id.
  const raw = await request(`/api/workloads/${EHR}`);
  assert.equal(((await raw.json()) as WorkloadDetails).id, EHR);

  const unknown = await request(`/api/workloads/${encodeURIComponent('ehr/nothing[Deployment]')}`);
  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as { error: string }).error, /unknown workload/);
  assertSecurityHeaders(unknown, 'API 404');
});

test('GET /api/explain: what phiwall explain prints, and its JSON; 400 for unknown ends and bad ports', async () => {
  const query = new URLSearchParams({ from: PORTAL, to: EHR, port: '8443' });
  const response = await request(`/api/explain?${query}`);
  assert.equal(response.status, 200);
  const { text, json } = (await response.json()) as { text: string; json: Record<string, unknown> };
  assert.match(text, /^portal\/patient-portal\[Deployment\] -> ehr\/ehr-api\[Deployment\]/);
  assert.match(text, /Verdict on TCP 8443: ALLOWED/);
  assert.equal(json.verdict, 'allow');

  const external = await request(
    `/api/explain?${new URLSearchParams({ from: 'external:0.0.0.0/0,::/0', to: EHR })}`,
  );
  assert.equal(external.status, 200);
  assert.match(((await external.json()) as { text: string }).text, /^0\.0\.0\.0 -> ehr\/ehr-api/);

  for (const [params, pattern] of [
    [{ from: PORTAL, to: 'ehr/ghost' }, /unknown workload "ehr\/ghost"/],
    [{ from: PORTAL }, /needs from and to/],
    [{ from: PORTAL, to: EHR, port: '70000' }, /not a port/],
    [{ from: PORTAL, to: EHR, protocol: 'ICMP' }, /not a protocol/],
    [{ from: 'entry:Ingress/ehr/ehr', to: EHR }, /entry point/],
  ] as const) {
    const bad = await request(`/api/explain?${new URLSearchParams(params)}`);
    assert.equal(bad.status, 400, JSON.stringify(params));
    assert.match(((await bad.json()) as { error: string }).error, pattern);
  }
});

test('GET /api/findings: the audit findings, non-pass first', async () => {
  const response = await request('/api/findings');
  const findings = (await response.json()) as Finding[];
  const audit = runAudit(
    new Engine(loadSnapshot([`${EXAMPLE}insecure`]), DEFAULT_OPTIONS),
    loadAuditConfig(CONFIG_FILE).config,
  );
  assert.equal(findings.length, audit.findings.length);
  const firstPass = findings.findIndex((f) => f.status === 'pass');
  assert.ok(firstPass > 0);
  assert.ok(findings.slice(firstPass).every((f) => f.status === 'pass' || f.status === 'not-assessable'));
  const open = findings.find((f) => f.check === 'HIPAA-NP-005' && f.objects.includes(EHR));
  assert.equal(open?.status, 'fail');
  assert.ok(Array.isArray(findings.find((f) => f.evidence.edges)?.evidence.edges));
});

test('GET /api/flows: 404 without --flows, the flows JSON with them', async () => {
  assert.equal((await request('/api/flows')).status, 404);
  const withFlows = clinicApp(await clinicState('insecure', [`${EXAMPLE}flows.csv`]));
  const response = await withFlows.request('/api/flows');
  assert.equal(response.status, 200);
  const flows = (await response.json()) as { summary: { records: number }; gap: unknown[] };
  assert.ok(flows.summary.records > 0);
  assert.ok(Array.isArray(flows.gap));
});

test('every response carries the CSP and the other security headers, 404s and static files too', async () => {
  const root = webRoot();
  const withUi = clinicApp(state, { webRoot: root });
  for (const [path, status] of [
    ['/', 200],
    ['/assets/app.js', 200],
    ['/favicon.svg', 200],
    ['/nothing-here', 404],
    ['/api/graph', 200],
    ['/api/nothing', 404],
    [`/api/workloads/x`, 404],
  ] as const) {
    const response = await withUi.request(path);
    assert.equal(response.status, status, path);
    assertSecurityHeaders(response, path);
  }
  const refused = await clinicApp(state, { token: 't0ken' }).request('/api/graph');
  assert.equal(refused.status, 401);
  assertSecurityHeaders(refused, '401');
  const rebound = await request('/', { headers: { host: 'evil.example:8750' } });
  assert.equal(rebound.status, 403);
  assertSecurityHeaders(rebound, '403');
  const post = await request('/api/what-if', {
    method: 'POST',
    body: '{',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(post.status, 400);
  assertSecurityHeaders(post, 'what-if 400');
});

test('static files: index at /, content types, no listing, no way out of the web root', async () => {
  const { request: get } = clinicApp(state, { webRoot: webRoot() });
  const index = await get('/');
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await index.text(), /<script type="module" src="\/assets\/app.js">/);
  assert.match((await get('/assets/app.js')).headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match((await get('/assets/app.css')).headers.get('content-type') ?? '', /^text\/css/);
  assert.equal((await get('/favicon.svg')).headers.get('content-type'), 'image/svg+xml');
  for (const path of [
    '/assets',
    '/assets/',
    '/.env',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/%00index.html',
    '/%E0%A4%A',
  ]) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(await response.text(), /SECRET/, path);
  }
});

test('without a built UI, / says to run npm run build', async () => {
  const response = await request('/');
  assert.equal(response.status, 200);
  assert.equal(await response.text(), NOT_BUILT_TEXT);
  assertSecurityHeaders(response, 'not built');
});

test('a token is required on every request when set: Bearer, ?token= (which sets a cookie), or the cookie', async () => {
  const { request: get } = clinicApp(state, { token: 's3cret', host: '0.0.0.0', webRoot: webRoot() });
  for (const path of ['/', '/assets/app.js', '/api/graph', '/api/events', '/nothing']) {
    const response = await get(path);
    assert.equal(response.status, 401, path);
    assert.doesNotMatch(await response.text(), /phiwall generation|"nodes"/);
  }
  assert.equal((await get('/api/graph?token=wrong')).status, 401);
  assert.equal((await get('/api/graph', { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await get('/api/graph', { headers: { authorization: 'Bearer s3cret' } })).status, 200);
  const page = await get('/?token=s3cret');
  assert.equal(page.status, 200);
  const cookie = page.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^phiwall-token-8750=s3cret;/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  // The page's scripts are loaded without the query: the cookie carries the token.
  const script = await get('/assets/app.js', { headers: { cookie: 'phiwall-token-8750=s3cret' } });
  assert.equal(script.status, 200);
  assert.equal((await get('/assets/app.js', { headers: { cookie: 'phiwall-token-8750=nope' } })).status, 401);
  // Not on a loopback bind, so the Host header is not checked: the token is the protection.
  assert.equal(
    (await get('/api/graph?token=s3cret', { headers: { host: 'clinic.example:8750' } })).status,
    200,
  );
});

test('on a loopback bind, a Host header other than 127.0.0.1, localhost or [::1] with the port gets 403', async () => {
  for (const host of ['127.0.0.1:8750', 'localhost:8750', '[::1]:8750', 'LOCALHOST:8750']) {
    assert.equal((await request('/api/graph', { headers: { host } })).status, 200, host);
  }
  for (const host of [
    'evil.example:8750',
    'evil.example',
    '127.0.0.1:9999',
    '127.0.0.1',
    'localhost.evil.example:8750',
  ]) {
    const response = await request('/api/graph', { headers: { host } });
    assert.equal(response.status, 403, host);
  }
});

test('a non-loopback bind without a token is refused; startServe generates one and requests without it get 401', async () => {
  await assert.rejects(startServer(state, { host: '0.0.0.0', port: 0 }), /needs a token/);
  const served = await startServe({
    paths: [`${EXAMPLE}insecure`],
    config: `${EXAMPLE}phiwall.yaml`,
    host: '0.0.0.0',
    port: 0,
    watch: false,
  });
  try {
    assert.ok(served.token && served.token.length >= 20, 'a token was generated');
    assert.equal(served.url, `http://0.0.0.0:${served.port}/?token=${served.token}`);
    const base = `http://127.0.0.1:${served.port}`;
    assert.equal((await fetch(`${base}/api/graph`)).status, 401);
    assert.equal((await fetch(`${base}/api/graph?token=${served.token}`)).status, 200);
  } finally {
    await served.close();
  }
});
