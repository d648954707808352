/**
 * The server never blocks: a slow what-if runs in a worker thread while the graph, explain and the
 * event stream answer, and a change that comes meanwhile makes it start again against the new
 * generation. Ordering is asserted, not wall-clock times.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import type { Graph } from './graph.ts';
import { startServe } from './index.ts';
import type { InputSpec } from './inputs.ts';
import { type ChangeEvent, ServeState } from './state.ts';
import { CONFIG_FILE, exampleCopy, SseReader } from './test-support.ts';
import type { WhatIfResult } from './what-if.ts';

const NAMESPACES = 40;
const APPS = 25;
/** As many policies as the what-if that held the event loop for over 30 s (issue 20). */
const WHAT_IF_POLICIES = 2000;

const pod = (ns: number, app: number) => `ns-${ns}/app-${app}[Pod]`;

function clusterYaml(): string {
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}, labels: {team: t-${n % 7}}}`);
    for (let a = 0; a < APPS; a++)
      docs.push(
        `apiVersion: v1\nkind: Pod\nmetadata: {name: app-${a}, namespace: ns-${n}, labels: {app: app-${a}}}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: 10.1.${n}.${a + 1}}`,
      );
  }
  return docs.join('\n---\n');
}

/** A default deny in every namespace, `except` left out. */
function denyYaml(except?: number): string {
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES; n++)
    if (n !== except)
      docs.push(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ns-${n}}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}`,
      );
  return docs.join('\n---\n');
}

/** Opens ns-0 within itself; then many narrow ingress allows in ns-2 and up (ns-1 is left alone). */
function whatIfYaml(): string {
  const docs = [
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: ns-0}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]\n  egress: [{to: [{podSelector: {}}]}]',
  ];
  for (let i = 0; i < WHAT_IF_POLICIES; i++)
    docs.push(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: wi-${i}, namespace: ns-${2 + (i % (NAMESPACES - 2))}}\nspec:\n  podSelector: {matchLabels: {app: app-${i % APPS}}}\n  policyTypes: [Ingress]\n  ingress:\n    - from: [{namespaceSelector: {matchLabels: {team: t-${i % 7}}}, podSelector: {matchLabels: {app: app-${(i + 1) % APPS}}}}]\n      ports: [{port: ${8000 + (i % 50)}}]`,
    );
  return docs.join('\n---\n');
}

test('a slow what-if runs beside the request loop: the graph, explain and a change event come first; the what-if is redone against the new generation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-workers-'));
  writeFileSync(join(dir, 'cluster.yaml'), clusterYaml());
  writeFileSync(join(dir, 'policies.yaml'), denyYaml());
  const served = await startServe({ paths: [dir], auditConfig: DEFAULT_CONFIG, port: 0, debounceMs: 50 });
  t.after(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = (path: string) => new URL(path, served.url);
  const events = new SseReader(await fetch(api('/api/events')));
  t.after(() => events.cancel());
  const order: string[] = [];

  const whatIf = fetch(api('/api/what-if'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ yaml: whatIfYaml() }),
  }).then(async (response) => {
    order.push('what-if');
    assert.equal(response.status, 200);
    return (await response.json()) as WhatIfResult;
  });

  const graph = (await (await fetch(api('/api/graph'))).json()) as Graph;
  order.push('graph');
  assert.equal(graph.generation, 1);
  assert.equal(graph.summary.workloads, NAMESPACES * APPS);
  assert.deepEqual(graph.edges, [], 'every namespace denies everything');

  const explained = await fetch(api(`/api/explain?from=${pod(0, 1)}&to=${pod(0, 0)}&port=80`));
  order.push('explain');
  assert.equal(explained.status, 200);
  assert.match(((await explained.json()) as { text: string }).text, /Verdict on TCP 80: DENIED/);

  // ns-1 drops its default deny while the what-if runs.
  writeFileSync(join(dir, 'policies.yaml'), denyYaml(1));
  const change = await events.next(60_000);
  order.push('change');
  assert.equal(change.event, 'change');
  const data = JSON.parse(change.data) as ChangeEvent;
  assert.equal(data.generation, 2);
  assert.deepEqual(data.objects, [
    { type: 'DELETED', kind: 'NetworkPolicy', namespace: 'ns-1', name: 'deny' },
  ]);
  assert.ok(data.added.includes(`${pod(1, 1)}->${pod(1, 0)}`), 'ns-1 is open within itself');

  const result = await whatIf;
  assert.deepEqual(order, ['graph', 'explain', 'change', 'what-if']);
  // Laid over generation 2, not the generation it was asked against: ns-1 is open in its graph too.
  assert.equal(result.graph.generation, 2);
  assert.ok(result.graph.edges.some((e) => e.id === `${pod(1, 1)}->${pod(1, 0)}`));
  const added = result.added.map((e) => e.id);
  assert.ok(added.includes(`${pod(0, 1)}->${pod(0, 0)}`), 'the what-if opens ns-0 within itself');
  assert.ok(
    !added.some((id) => /^ns-1\/.*->ns-1\//.test(id)),
    'ns-1 was open within itself already: the what-if adds nothing there',
  );
});

test('a reload asked while one is computed stops it at its next checkpoint: one step, one change event with both reasons', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-workers-'));
  writeFileSync(join(dir, 'cluster.yaml'), clusterYaml());
  writeFileSync(join(dir, 'policies.yaml'), denyYaml());
  const input: InputSpec = { kind: 'files', paths: [dir] };
  const state = await ServeState.inWorkers(input, {
    config: DEFAULT_CONFIG,
    engineOptions: DEFAULT_OPTIONS,
    source: { kind: 'files', label: dir },
  });
  t.after(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const events: ChangeEvent[] = [];
  state.subscribe((event) => {
    if (event.type === 'change') events.push(event.data);
  });
  writeFileSync(join(dir, 'policies.yaml'), denyYaml(1));
  // The second is asked before the worker can have loaded 1,000 pods for the first.
  const first = state.reload(input, 'first');
  const second = state.reload(input, 'second');
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a, b, 'both callers hear of the one step');
  assert.equal(a?.generation, 2);
  assert.equal(a?.reason, 'first; second');
  assert.deepEqual(a?.objects, [{ type: 'DELETED', kind: 'NetworkPolicy', namespace: 'ns-1', name: 'deny' }]);
  assert.deepEqual(
    events.map((e) => e.generation),
    [2],
  );
  assert.equal(state.generation, 2);
});

test('a what-if while the input does not load is laid over the last good generation', async (t) => {
  const dir = exampleCopy('insecure');
  const served = await startServe({ paths: [dir], config: CONFIG_FILE, port: 0, debounceMs: 50 });
  t.after(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = (path: string) => new URL(path, served.url);
  const events = new SseReader(await fetch(api('/api/events')));
  t.after(() => events.cancel());
  writeFileSync(join(dir, '99-broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: [oops}\n');
  assert.equal((await events.next(10_000)).event, 'error');

  // Without the policy that admits every namespace, records-db admits nothing but a mistyped peer.
  const response = await fetch(api('/api/what-if'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ delete: [{ kind: 'NetworkPolicy', namespace: 'records', name: 'records-db' }] }),
  });
  assert.equal(response.status, 200);
  const result = (await response.json()) as WhatIfResult;
  assert.equal(result.graph.generation, 1);
  const removed = result.removed.map((e) => e.id);
  assert.ok(
    removed.includes('analytics/reports[Deployment]->records/records-db[StatefulSet]'),
    removed.join('\n'),
  );
  assert.deepEqual(result.added, []);
});

test('a served worker that stops is started again: questions are answered and the next change is computed', async (t) => {
  const dir = exampleCopy('insecure');
  const logs: string[] = [];
  const state = await ServeState.inWorkers(
    { kind: 'files', paths: [dir] },
    {
      config: DEFAULT_CONFIG,
      engineOptions: DEFAULT_OPTIONS,
      source: { kind: 'files', label: dir },
      log: (text) => logs.push(text),
    },
  );
  t.after(async () => {
    await state.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const workload = 'records/records-db[StatefulSet]';
  const before = await state.workload(workload);
  // As a crash or running out of memory would, from outside the worker.
  const analyst = (state as unknown as { analyst: { served: { close(): Promise<void> } } }).analyst;
  await analyst.served.close();
  assert.deepEqual(await state.workload(workload), before);
  assert.ok(
    logs.some((line) => /the analysis worker stopped .*: starting it again/.test(line)),
    logs.join(''),
  );

  await analyst.served.close();
  rmSync(join(dir, '30-policies.yaml'));
  const event = await state.reload({ kind: 'files', paths: [dir] }, 'policies removed');
  assert.equal(event?.generation, 2);
  assert.match(event?.reason ?? '', /policies removed; the analysis worker was started again/);
  assert.equal(state.generation, 2);
  assert.ok(!state.inError);
});
