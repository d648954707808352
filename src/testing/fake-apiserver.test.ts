import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver.ts';

type Meta = { name: string; resourceVersion: string; annotations?: object };
type WatchEvent = { type: string; object: { metadata: Meta } & Record<string, unknown> };

const pod = (namespace: string, name: string, labels: Record<string, string> = {}, phase = 'Running') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: name, ...labels } },
  spec: { containers: [{ name: 'main', image: 'registry.example/app:1' }] },
  status: { phase },
});
const netpol = (namespace: string, name: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
});
const anp = {
  apiVersion: 'policy.networking.k8s.io/v1alpha1',
  kind: 'AdminNetworkPolicy',
  metadata: { name: 'deny-phi' },
  spec: { priority: 10, subject: { namespaces: {} }, ingress: [] },
};
const fixtures = [
  pod('phi', 'db-0'),
  pod('phi', 'api-1'),
  pod('web', 'front-1', {}, 'Pending'),
  pod('web', 'front-2'),
  pod('phi', 'db-1'),
  pod('default', 'debug'),
  pod('web', 'front-3'),
  netpol('phi', 'default-deny'),
  anp,
];

async function start(t: TestContext, options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = await FakeApiServer.start({ objects: fixtures, ...options });
  t.after(() => server.close());
  return server;
}

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary API JSON
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens a watch and collects its newline-delimited events; `ended` says how the stream finished. */
async function openWatch(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const events: WatchEvent[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'end';
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
          events.push(JSON.parse(buffer.slice(0, i)));
          buffer = buffer.slice(i + 1);
        }
      }
    } catch {
      return 'error';
    }
  })();
  return { events, ended, res, cancel: () => reader.cancel().catch(() => {}) };
}

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name}`);

test('discovery answers legacy JSON even when kubectl asks for aggregated discovery', async (t) => {
  const s = await start(t, { serverVersion: { major: '1', minor: '29', gitVersion: 'v1.29.4' } });
  assert.equal((await getJson(`${s.url}/version`)).body.gitVersion, 'v1.29.4');
  const aggregated = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
  const apis = await getJson(`${s.url}/apis`, { accept: aggregated });
  assert.equal(apis.type, 'application/json');
  assert.equal(apis.body.kind, 'APIGroupList');
  const policy = apis.body.groups.find((g: { name: string }) => g.name === 'policy.networking.k8s.io');
  assert.deepEqual(policy.preferredVersion, {
    groupVersion: 'policy.networking.k8s.io/v1alpha2',
    version: 'v1alpha2',
  });
  assert.deepEqual((await getJson(`${s.url}/api`)).body.versions, ['v1']);
  const core = (await getJson(`${s.url}/api/v1`)).body;
  assert.equal(core.groupVersion, 'v1');
  const pods = core.resources.find((r: { name: string }) => r.name === 'pods');
  assert.deepEqual(pods, {
    name: 'pods',
    singularName: 'pod',
    namespaced: true,
    kind: 'Pod',
    verbs: ['get', 'list', 'watch'],
    shortNames: ['po'],
  });
  const alpha1 = (await getJson(`${s.url}/apis/policy.networking.k8s.io/v1alpha1`)).body;
  assert.deepEqual(
    alpha1.resources.map((r: { name: string; namespaced: boolean }) => [r.name, r.namespaced]),
    [
      ['adminnetworkpolicies', false],
      ['baselineadminnetworkpolicies', false],
    ],
  );
  assert.equal((await getJson(`${s.url}/openapi/v2`)).status, 404);
});

test('list pages with limit/continue return every item once, from one consistent snapshot', async (t) => {
  const s = await start(t, { pageSize: 3 });
  const names: string[] = [];
  const remaining: unknown[] = [];
  const versions = new Set<string>();
  let token = '';
  do {
    const page = await getJson(`${s.url}/api/v1/pods?limit=100${token ? `&continue=${token}` : ''}`);
    assert.equal(page.status, 200);
    assert.equal(page.body.kind, 'PodList');
    assert.equal(page.body.apiVersion, 'v1');
    assert.ok(page.body.items.length <= 3, 'the server caps the page below the client limit');
    for (const item of page.body.items) {
      assert.equal(item.kind, undefined, 'built-in list items carry no kind, like the real server');
      assert.match(item.metadata.resourceVersion, /^\d+$/);
      names.push(`${item.metadata.namespace}/${item.metadata.name}`);
    }
    remaining.push(page.body.metadata.remainingItemCount);
    versions.add(page.body.metadata.resourceVersion);
    token = page.body.metadata.continue ?? '';
    // A change between pages must not show up in the pages still to come.
    if (names.length === 3) s.apply(pod('web', 'zz-late'));
  } while (token);
  assert.deepEqual(names, [
    'default/debug',
    'phi/api-1',
    'phi/db-0',
    'phi/db-1',
    'web/front-1',
    'web/front-2',
    'web/front-3',
  ]);
  assert.deepEqual(remaining, [4, 1, undefined]);
  assert.equal(versions.size, 1, 'every page is served at the first page resourceVersion');
  const fresh = await getJson(`${s.url}/api/v1/pods?limit=500`);
  assert.equal(fresh.body.items.length, 3, 'a new list starts a new snapshot, still capped');

  const bad = await getJson(`${s.url}/api/v1/pods?limit=2&continue=bm90LWEtdG9rZW4`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.kind, 'Status');
  assert.equal(bad.body.reason, 'BadRequest');
  assert.equal(bad.body.code, 400);
});

test('namespace-scoped and all-namespaces lists, selectors, single objects', async (t) => {
  const s = await start(t);
  const inPhi = (await getJson(`${s.url}/api/v1/namespaces/phi/pods`)).body;
  assert.deepEqual(
    inPhi.items.map((p: { metadata: { name: string } }) => p.metadata.name),
    ['api-1', 'db-0', 'db-1'],
  );
  assert.equal((await getJson(`${s.url}/api/v1/pods`)).body.items.length, 7);
  const byLabel = (await getJson(`${s.url}/api/v1/pods?labelSelector=app%20in%20(db-0,front-2)`)).body;
  assert.deepEqual(
    byLabel.items.map((p: { metadata: { name: string } }) => p.metadata.name),
    ['db-0', 'front-2'],
  );
  const pending = (await getJson(`${s.url}/api/v1/pods?fieldSelector=status.phase%3DPending`)).body;
  assert.deepEqual(
    pending.items.map((p: { metadata: { name: string } }) => p.metadata.name),
    ['front-1'],
  );
  assert.equal((await getJson(`${s.url}/api/v1/pods?fieldSelector=spec.hostname%3Dx`)).status, 400);
  const np = (await getJson(`${s.url}/apis/networking.k8s.io/v1/namespaces/phi/networkpolicies/default-deny`))
    .body;
  assert.equal(np.kind, 'NetworkPolicy');
  assert.equal(np.apiVersion, 'networking.k8s.io/v1');
  const missing = await getJson(`${s.url}/api/v1/namespaces/phi/pods/nope`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.message, 'pods "nope" not found');
  assert.equal(missing.body.reason, 'NotFound');
  const anps = (await getJson(`${s.url}/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies`)).body;
  assert.equal(anps.kind, 'AdminNetworkPolicyList');
  assert.equal(
    anps.items[0].kind,
    'AdminNetworkPolicy',
    'CRD list items keep their kind, like the real server',
  );
  assert.equal((await fetch(`${s.url}/api/v1/namespaces/phi/pods`, { method: 'POST' })).status, 405);
});

test('RBAC denials are 403 Status objects with the real message', async (t) => {
  const s = await start(t, { forbidden: [{ verb: 'list', resource: 'pods' }] });
  const all = await getJson(`${s.url}/api/v1/pods`);
  assert.equal(all.status, 403);
  assert.deepEqual(all.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message:
      'pods is forbidden: User "system:serviceaccount:phiwall:phiwall" cannot list resource "pods" in API group "" at the cluster scope',
    reason: 'Forbidden',
    details: { kind: 'pods' },
    code: 403,
  });
  const inNs = await getJson(`${s.url}/api/v1/namespaces/phi/pods`);
  assert.match(inNs.body.message, /in the namespace "phi"$/);
  assert.equal((await getJson(`${s.url}/apis/networking.k8s.io/v1/networkpolicies`)).status, 200);
  assert.equal(
    (await getJson(`${s.url}/api/v1/namespaces/phi/pods/db-0`)).status,
    200,
    'get is another verb',
  );
});

test('a token is required when set: 401 without it or with a wrong one', async (t) => {
  const s = await start(t, { token: 's3cret' });
  const none = await getJson(`${s.url}/api/v1/pods`);
  assert.equal(none.status, 401);
  assert.equal(none.body.reason, 'Unauthorized');
  assert.equal((await getJson(`${s.url}/api`, { authorization: 'Bearer nope' })).status, 401);
  assert.equal((await getJson(`${s.url}/api/v1/pods`, { authorization: 'Bearer s3cret' })).status, 200);
  assert.equal(s.requests.length, 3, 'refused requests are logged too');
});

test('without the policy CRDs their group is absent and its paths 404', async (t) => {
  const s = await start(t, { crds: false });
  const groups = (await getJson(`${s.url}/apis`)).body.groups.map((g: { name: string }) => g.name);
  assert.deepEqual(groups, ['apps', 'batch', 'networking.k8s.io']);
  const anps = await getJson(`${s.url}/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies`);
  assert.equal(anps.status, 404);
  assert.equal(anps.body.reason, 'NotFound');
  assert.equal((await getJson(`${s.url}/apis/policy.networking.k8s.io/v1alpha2`)).status, 404);
});

test('watch from a resourceVersion replays later changes in order, then follows live ones', async (t) => {
  const s = await start(t);
  const list = (await getJson(`${s.url}/api/v1/namespaces/phi/pods`)).body;
  const rv = list.metadata.resourceVersion;
  s.apply(pod('phi', 'db-2')); // before the watch opens: must be replayed from history
  const w = await openWatch(`${s.url}/api/v1/namespaces/phi/pods?watch=true&resourceVersion=${rv}`);
  await until(() => w.events.length === 1, 'the replayed event');
  s.apply({ ...pod('phi', 'db-0'), spec: { containers: [] } });
  s.apply(pod('web', 'elsewhere')); // another namespace: not for this watch
  s.delete('v1', 'Pod', 'phi', 'api-1');
  await until(() => w.events.length === 3, 'three events');
  assert.deepEqual(summary(w.events), ['ADDED db-2', 'MODIFIED db-0', 'DELETED api-1']);
  const versions = w.events.map((e) => Number(e.object.metadata.resourceVersion));
  assert.ok(
    versions.every((v, i) => i === 0 || v > (versions[i - 1] as number)),
    `increasing: ${versions}`,
  );
  assert.equal(w.events[1]?.object.kind, 'Pod', 'watch objects carry kind and apiVersion');
  w.cancel();
});

test('watch without a resourceVersion starts with ADDED for every object; selectors move objects in and out', async (t) => {
  const s = await start(t);
  const w = await openWatch(`${s.url}/api/v1/pods?watch=1&labelSelector=tier%3Ddata`);
  s.apply(pod('phi', 'db-0', { tier: 'data' }));
  s.apply(pod('phi', 'db-0', { tier: 'cache' }));
  await until(() => w.events.length === 2, 'two events');
  assert.deepEqual(summary(w.events), ['ADDED db-0', 'DELETED db-0']);

  const all = await openWatch(`${s.url}/apis/networking.k8s.io/v1/networkpolicies?watch=true`);
  await until(() => all.events.length === 1, 'the initial ADDED');
  assert.deepEqual(summary(all.events), ['ADDED default-deny']);
  w.cancel();
  all.cancel();
});

test('dropWatches ends open streams abruptly', async (t) => {
  const s = await start(t);
  const rv = (await getJson(`${s.url}/api/v1/pods`)).body.metadata.resourceVersion;
  const w = await openWatch(`${s.url}/api/v1/pods?watch=true&resourceVersion=${rv}`);
  s.dropWatches();
  assert.equal(await w.ended, 'error');
  s.apply(pod('phi', 'after-drop'));
  assert.deepEqual(summary(w.events), []);
});

test('after compact(), an old resourceVersion gets the 410 Expired ERROR event, and old continue tokens 410', async (t) => {
  const s = await start(t, { pageSize: 2 });
  const first = (await getJson(`${s.url}/api/v1/pods?limit=2`)).body;
  const old = first.metadata.resourceVersion;
  s.apply(pod('phi', 'db-9'));
  s.compact();
  const w = await openWatch(`${s.url}/api/v1/pods?watch=true&resourceVersion=${old}`);
  assert.equal(await w.ended, 'end');
  assert.deepEqual(w.events, [
    {
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${old} (${Number(old) + 1})`,
        reason: 'Expired',
        details: {},
        code: 410,
      },
    },
  ]);
  const stale = await getJson(`${s.url}/api/v1/pods?limit=2&continue=${first.metadata.continue}`);
  assert.equal(stale.status, 410);
  assert.equal(stale.body.reason, 'Expired');
  const exact = await getJson(`${s.url}/api/v1/pods?resourceVersion=${old}&resourceVersionMatch=Exact`);
  assert.equal(exact.status, 410);
  // From the current version on, watching works again.
  const current = (await getJson(`${s.url}/api/v1/pods`)).body.metadata.resourceVersion;
  const ok = await openWatch(`${s.url}/api/v1/pods?watch=true&resourceVersion=${current}`);
  s.delete('v1', 'Pod', 'phi', 'db-9');
  await until(() => ok.events.length === 1, 'the DELETED event');
  assert.deepEqual(summary(ok.events), ['DELETED db-9']);
  ok.cancel();
});

test('timeoutSeconds ends a watch with a bookmark; sendInitialEvents ends the initial state with one', async (t) => {
  const s = await start(t);
  const q = 'watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan';
  const w = await openWatch(`${s.url}/apis/networking.k8s.io/v1/networkpolicies?${q}&timeoutSeconds=1`);
  assert.equal(await w.ended, 'end');
  assert.deepEqual(
    w.events.map((e) => [e.type, e.object.metadata.annotations]),
    [
      ['ADDED', undefined],
      ['BOOKMARK', { 'k8s.io/initial-events-end': 'true' }],
      ['BOOKMARK', undefined],
    ],
  );
  assert.equal(w.events[2]?.object.metadata.resourceVersion, '1009');
});

test('@kubernetes/client-node lists page by page and watches through a kubeconfig with a token', async (t) => {
  const k8s = await import('@kubernetes/client-node');
  const s = await start(t, { pageSize: 2, token: 'tok', tls: true });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(s.kubeconfig());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const names: string[] = [];
  let _continue: string | undefined;
  do {
    const page = await core.listPodForAllNamespaces({ limit: 50, ...(_continue ? { _continue } : {}) });
    names.push(...page.items.map((p) => p.metadata?.name ?? '?'));
    _continue = page.metadata?._continue;
  } while (_continue);
  assert.equal(names.length, 7);
  assert.equal(s.requests.filter((r) => r.path === '/api/v1/pods').length, 4);

  const events: string[] = [];
  let done: unknown = 'not yet';
  const rv = (await core.listNamespacedPod({ namespace: 'phi' })).metadata?.resourceVersion;
  await new k8s.Watch(kc).watch(
    '/api/v1/pods',
    { resourceVersion: rv },
    (type: string, obj: { metadata: { name: string } }) => events.push(`${type} ${obj.metadata.name}`),
    (err: unknown) => {
      done = err;
    },
  );
  s.apply(pod('phi', 'db-2'));
  await until(() => events.length === 1, 'the watch event');
  assert.deepEqual(events, ['ADDED db-2']);
  s.dropWatches();
  await until(() => done !== 'not yet', 'the done callback');

  const bad = new k8s.KubeConfig();
  bad.loadFromString(s.kubeconfig({ token: 'wrong' }));
  await assert.rejects(
    bad.makeApiClient(k8s.CoreV1Api).listNamespace(),
    (e: { code: number }) => e.code === 401,
  );
  const networking = kc.makeApiClient(k8s.NetworkingV1Api);
  assert.equal((await networking.listNetworkPolicyForAllNamespaces()).items.length, 1);
});

test('@kubernetes/client-node over plain HTTP: an RBAC denial surfaces as a 403 ApiException', async (t) => {
  const k8s = await import('@kubernetes/client-node');
  const s = await start(t, {
    forbidden: [{ verb: 'list', resource: 'networkpolicies', group: 'networking.k8s.io' }],
  });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(s.kubeconfig());
  assert.equal(
    (await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'web' })).items.length,
    3,
  );
  await assert.rejects(
    kc.makeApiClient(k8s.NetworkingV1Api).listNetworkPolicyForAllNamespaces(),
    (e: { code: number; body: string }) => {
      assert.equal(e.code, 403);
      assert.match(
        String(e.body),
        /cannot list resource \\"networkpolicies\\" in API group \\"networking.k8s.io\\"/,
      );
      return true;
    },
  );
});

// The real kubectl. PHIWALL_TEST_KUBECTL can name another binary (e.g. Debian's kubectl 1.20).
const kubectl =
  process.env.PHIWALL_TEST_KUBECTL ||
  (process.env.PATH ?? '')
    .split(':')
    .map((dir) => join(dir, 'kubectl'))
    .find((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });

/** A disposable HOME (kubectl caches discovery under ~/.kube/cache) and no ambient kubeconfig. */
function kubectlEnv(t: TestContext) {
  const home = mkdtempSync(join(tmpdir(), 'phiwall-kubectl-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return { home, env: { ...process.env, HOME: home, KUBECONFIG: join(home, 'no-config') } };
}

// Asynchronous on purpose: a synchronous spawn would block the event loop that serves kubectl.
const run = promisify(execFile);

test('kubectl --server URL get pods -A -o json lists the fixture pods, page by page', async (t) => {
  if (!kubectl) return t.skip('kubectl not installed');
  const s = await start(t, { pageSize: 4 });
  const { env } = kubectlEnv(t);
  const { stdout } = await run(kubectl, ['--server', s.url, 'get', 'pods', '-A', '-o', 'json'], { env });
  const list = JSON.parse(stdout);
  assert.deepEqual(
    list.items
      .map((p: { kind: string; metadata: { name: string } }) => `${p.kind} ${p.metadata.name}`)
      .sort(),
    ['Pod api-1', 'Pod db-0', 'Pod db-1', 'Pod debug', 'Pod front-1', 'Pod front-2', 'Pod front-3'],
  );
  const lists = s.requests.filter((r) => r.path === '/api/v1/pods');
  assert.equal(lists.length, 2, 'kubectl followed the continue token');
  assert.equal(lists[0]?.query.limit, '500');
  // The plain-HTTP kubeconfig (insecure-skip-tls-verify, which client-node needs) suits kubectl too.
  const config = join(env.HOME, 'kubeconfig');
  writeFileSync(config, s.kubeconfig());
  const inPhi = await run(kubectl, ['--kubeconfig', config, 'get', 'pods', '-n', 'phi', '-o', 'json'], {
    env,
  });
  assert.equal(JSON.parse(inPhi.stdout).items.length, 3);
  assert.ok(s.requests.some((r) => r.path === '/api/v1/namespaces/phi/pods'));
});

test('kubectl --kubeconfig with a token (over TLS, as client-go requires) gets network policies', async (t) => {
  if (!kubectl) return t.skip('kubectl not installed');
  const s = await start(t, { token: 'tok', tls: true });
  const { home, env } = kubectlEnv(t);
  const config = join(home, 'kubeconfig');
  writeFileSync(config, s.kubeconfig({ context: 'phi-cluster' }));
  const args = ['--kubeconfig', config, 'get', 'networkpolicies', '-A', '-o', 'json'];
  const list = JSON.parse((await run(kubectl, args, { env })).stdout);
  assert.deepEqual(
    list.items.map(
      (p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`,
    ),
    ['phi/default-deny'],
  );
  writeFileSync(config, s.kubeconfig({ token: 'wrong' }));
  await assert.rejects(run(kubectl, args, { env }), (e: { stderr: string }) =>
    /logged in|Unauthorized/.test(e.stderr),
  );
});

test('kubectl get pods -A --watch -o json prints an event after apply()', async (t) => {
  if (!kubectl) return t.skip('kubectl not installed');
  const s = await start(t);
  const { env } = kubectlEnv(t);
  const child = spawn(kubectl, ['--server', s.url, 'get', 'pods', '-A', '--watch', '-o', 'json'], { env });
  t.after(() => child.kill());
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  await until(() => out.includes('"front-3"'), 'the initial list').catch((e) => {
    throw new Error(`${e.message}; kubectl said: ${err}`);
  });
  await until(() => s.requests.some((r) => r.query.watch === 'true'), 'the watch request');
  s.apply(pod('phi', 'late-arrival'));
  await until(() => out.includes('"late-arrival"'), 'the watched pod');
  const watch = s.requests.find((r) => r.query.watch === 'true');
  assert.match(watch?.query.resourceVersion ?? '', /^\d+$/, 'kubectl watches from the list resourceVersion');
});
