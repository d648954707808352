import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import type { Graph } from './graph.ts';
import { startServe } from './index.ts';
import type { ChangeEvent, ErrorEvent } from './state.ts';
import { assertStrictCsp, CONFIG_FILE, EXAMPLE, exampleCopy, SseReader } from './test-support.ts';

const PORTAL_TO_DB = 'portal/patient-portal[Deployment]->records/records-db[StatefulSet]';
const EHR_TO_DB = 'ehr/ehr-api[Deployment]->records/records-db[StatefulSet]';

/** Saves as editors do: write a new file beside it, then rename it over the old one. */
function save(path: string, text: string): void {
  writeFileSync(`${path}.tmp~`, text);
  renameSync(`${path}.tmp~`, path);
}

test('a watched file changes: a change event within 2 s names the object and the edges; a broken edit keeps the last good graph', async (t) => {
  const dir = exampleCopy('insecure');
  const served = await startServe({ paths: [dir], config: CONFIG_FILE, port: 0, keepAliveMs: 100 });
  t.after(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const api = (path: string) => new URL(path, served.url);
  const response = await fetch(api('/api/events'));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = new SseReader(response);
  t.after(() => events.cancel());
  const policies = join(dir, '30-policies.yaml');
  const original = readFileSync(policies, 'utf8');
  // records-db: from every namespace, to the EHR API alone.
  const edited = original.replace(
    '        - namespaceSelector: {}\n',
    '        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ehr}}\n          podSelector: {matchLabels: {app: ehr-api}}\n',
  );
  assert.notEqual(edited, original);
  const saved = Date.now();
  save(policies, edited);
  const change = await events.next(2000);
  assert.ok(Date.now() - saved < 2000);
  assert.equal(change.event, 'change');
  const data = JSON.parse(change.data) as ChangeEvent;
  assert.equal(change.id, '2');
  assert.equal(data.generation, 2);
  assert.match(data.reason, /30-policies\.yaml/);
  assert.deepEqual(data.objects, [
    { type: 'MODIFIED', kind: 'NetworkPolicy', namespace: 'records', name: 'records-db' },
  ]);
  assert.ok(data.removed.includes(PORTAL_TO_DB), JSON.stringify(data.removed));
  assert.ok(!data.removed.includes(EHR_TO_DB));
  assert.deepEqual(data.added, []);
  // The portal no longer reaches the database: findings about that stop failing, none starts.
  assert.deepEqual(data.findings.started, []);
  assert.ok(
    data.findings.stopped.some((f) => f.objects.includes('records/records-db[StatefulSet]')),
    JSON.stringify(data.findings.stopped),
  );
  const graph = (await (await fetch(api('/api/graph'))).json()) as Graph;
  assert.equal(graph.generation, 2);
  assert.ok(!graph.edges.some((e) => e.id === PORTAL_TO_DB));

  // A broken edit: an error event with positioned messages, and the last good graph stays.
  save(
    policies,
    `${edited}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: [oops}\n`,
  );
  const failure = await events.next(2000);
  assert.equal(failure.event, 'error');
  const error = JSON.parse(failure.data) as ErrorEvent;
  assert.match(error.message, /30-policies\.yaml:\d+:\d+: /);
  assert.equal(error.errors.length, error.message.split('\n').length);
  // The last good graph stays, and says it is stale, since when, and why.
  const stale = (await (await fetch(api('/api/graph'))).json()) as Graph;
  assert.deepEqual(stale, {
    ...graph,
    status: { ...graph.status, stale: { since: error.time, message: error.message, errors: error.errors } },
  });

  // Put right again: the browser hears that the input loads again, even though nothing else changed.
  save(policies, edited);
  const recovered = JSON.parse((await events.next(2000)).data) as ChangeEvent;
  assert.equal(recovered.generation, 3);
  assert.deepEqual([recovered.objects, recovered.added, recovered.removed], [[], [], []]);
  assert.equal(((await (await fetch(api('/api/graph'))).json()) as Graph).status.stale, undefined);

  // A new file in the folder adds its objects; deleting it removes them.
  const extra = join(dir, '40-extra.yaml');
  save(
    extra,
    'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-portal, namespace: portal}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n',
  );
  const added = JSON.parse((await events.next(2000)).data) as ChangeEvent;
  assert.deepEqual(added.objects, [
    { type: 'ADDED', kind: 'NetworkPolicy', namespace: 'portal', name: 'deny-portal' },
  ]);
  assert.ok(added.removed.some((id) => id.startsWith('portal/patient-portal[Deployment]->')));
  // Denying the portal all egress ends its unapproved flow into the EHR API, and the path from the
  // published portal to the records database; deleting the file restores both.
  assert.deepEqual(
    added.findings.stopped.map((f) => [f.check, f.status, f.objects]),
    [
      ['HIPAA-NP-012', 'fail', ['portal/patient-portal[Deployment]', 'ehr/ehr-api[Deployment]']],
      ['HIPAA-NP-031', 'fail', ['records/records-db[StatefulSet]', 'portal/patient-portal[Deployment]']],
    ],
  );
  assert.deepEqual(added.findings.started, []);
  rmSync(extra);
  const deleted = JSON.parse((await events.next(2000)).data) as ChangeEvent;
  assert.equal(deleted.objects[0]?.type, 'DELETED');
  assert.deepEqual(deleted.added.sort(), added.removed.sort());
  assert.deepEqual(deleted.findings, { started: added.findings.stopped, stopped: [] });

  assert.ok(events.comments.includes('keep-alive'), 'keep-alive comments keep the stream open');
});

test('closing the server ends open event streams', async (t) => {
  const dir = exampleCopy('secure');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const served = await startServe({ paths: [dir], config: CONFIG_FILE, port: 0 });
  t.after(() => served.close());
  const events = new SseReader(await fetch(new URL('/api/events', served.url)));
  const closed = served.close();
  await assert.rejects(events.next(1000), /ended|terminated|no event/);
  await closed;
});

test('a changed flow log recomputes the comparison, though no object changed', async (t) => {
  const dir = exampleCopy('insecure');
  const flows = join(dir, '..', `${basename(dir)}-flows.csv`);
  const lines = readFileSync(`${EXAMPLE}flows.csv`, 'utf8').trimEnd().split('\n');
  writeFileSync(flows, `${lines.join('\n')}\n`);
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(flows, { force: true });
  });
  const served = await startServe({ paths: [dir], config: CONFIG_FILE, flows: [flows], port: 0 });
  t.after(() => served.close());
  const response = await fetch(new URL('/api/events', served.url));
  assertStrictCsp(response, '/api/events');
  const events = new SseReader(response);
  t.after(() => events.cancel());
  const records = async () =>
    ((await (await fetch(new URL('/api/flows', served.url))).json()) as { summary: { records: number } })
      .summary.records;
  assert.equal(await records(), lines.length - 1);
  save(flows, `${lines.slice(0, 4).join('\n')}\n`);
  const change = JSON.parse((await events.next(2000)).data) as ChangeEvent;
  assert.equal(change.generation, 2);
  assert.deepEqual(change.objects, []);
  assert.equal(await records(), 3);
});
