import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { LIVE_RESOURCES } from '../load/live/resources.ts';
import { type CliRun, runPhiwall } from '../testing/cli.ts';
import { FakeApiServer } from '../testing/fake-apiserver.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLINIC = join(ROOT, 'examples/hipaa-clinic/insecure');
const CONFIG = join(ROOT, 'examples/hipaa-clinic/phiwall.yaml');

/** The clinic's manifests as the objects a cluster would hold. */
function clinicObjects(): object[] {
  return readdirSync(CLINIC)
    .sort()
    .flatMap((file) => parseAllDocuments(readFileSync(join(CLINIC, file), 'utf8')).map((d) => d.toJSON()))
    .filter((o) => o !== null);
}

const dir = mkdtempSync(join(tmpdir(), 'phiwall-live-'));
let server: FakeApiServer;
let kubeconfig: string;

before(async () => {
  server = await FakeApiServer.start({ objects: clinicObjects(), pageSize: 3, token: 's3cret', tls: true });
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfig({ context: 'clinic' }));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

type Run = CliRun;

function run(argv: string[], signal?: AbortSignal, onOutput?: (run: Run) => void): Promise<Run> {
  return runPhiwall(argv, { signal, onOutput });
}

/** The findings of an audit, without where they were read from (files or `live:CONTEXT`). */
function findings(json: string): string[] {
  const report = JSON.parse(json) as { findings: { check: string; status: string; objects: string[] }[] };
  return report.findings.map((f) => `${f.check} ${f.status} ${[...f.objects].sort().join(',')}`).sort();
}

test('audit --live gives the same findings as an audit of a snapshot of the same objects', async () => {
  const live = await run(['audit', '--live', '--kubeconfig', kubeconfig, '--config', CONFIG, '-f', 'json']);
  assert.equal(live.code, 1, live.stderr);
  const file = join(dir, 'snapshot.json');
  const saved = await run(['snapshot', '--live', '--kubeconfig', kubeconfig, '-o', file]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stderr, /wrote \d+ objects from https:\/\/127\.0\.0\.1:\d+ \(context "clinic", v1\.\d+/);
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(snapshot.kind, 'List');
  assert.equal(snapshot.phiwall.context, 'clinic');
  assert.match(snapshot.phiwall.takenAt, /^\d{4}-\d\d-\d\dT/);
  assert.ok(
    snapshot.items.every((item: { kind?: string; apiVersion?: string }) => item.kind && item.apiVersion),
  );
  const offline = await run(['audit', file, '--config', CONFIG, '-f', 'json']);
  assert.equal(offline.code, 1, offline.stderr);
  assert.deepEqual(findings(live.stdout), findings(offline.stdout));
  // And both agree with the manifests themselves.
  const manifests = await run(['audit', CLINIC, '--config', CONFIG, '-f', 'json']);
  assert.deepEqual(findings(live.stdout), findings(manifests.stdout));
  // Lists came in pages, and nothing phiwall does not need was asked for.
  assert.ok(server.requests.some((r) => r.query.continue));
  assert.ok(
    !server.requests.some((r) => /secrets|configmaps/.test(r.path)),
    'asked for secrets or configmaps',
  );
});

/** Runs `connectivity --live --watch` until `script` has done its steps, and returns what it printed. */
async function watching(script: (output: () => Run) => Promise<void>, ...extra: string[]): Promise<Run> {
  const controller = new AbortController();
  let latest: Run = { code: -1, stdout: '', stderr: '' };
  const running = run(
    ['connectivity', '--live', '--watch', '--kubeconfig', kubeconfig, ...extra],
    controller.signal,
    (r) => {
      latest = r;
    },
  );
  const watchesBefore = watchRequests();
  try {
    await until(
      () => /watching/.test(latest.stderr),
      () => latest,
    );
    // Every resource's watch is open before the script acts (dropWatches needs them to be there).
    await until(
      // Calico's CRDs are not read where its API server serves the same resources, as the fake one does.
      () => watchRequests() - watchesBefore >= LIVE_RESOURCES.filter((r) => !r.unlessServedBy).length,
      () => latest,
    );
    await script(() => latest);
  } finally {
    controller.abort();
  }
  return running;
}

function watchRequests(): number {
  return server.requests.filter((r) => r.query.watch === 'true').length;
}

async function until(condition: () => boolean, output: () => Run, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) {
      const { stdout, stderr } = output();
      assert.fail(`timed out; stdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const denyBilling = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'deny-all', namespace: 'billing' },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
};

test('a watch picks up an added policy and prints the connectivity it removes', async () => {
  const r = await watching(async (output) => {
    server.apply(denyBilling);
    await until(() => /ADDED NetworkPolicy billing\/deny-all/.test(output().stdout), output);
    await until(() => /\] - billing\//.test(output().stdout), output);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^billing\/.* => /m);
  assert.match(r.stdout, /^\[\d{4}-[^\]]+\] - billing\/invoicing\[CronJob\] => /m);
  server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all');
});

test('a watch picks up an added CiliumNetworkPolicy: cilium.io is listed and watched where served', async () => {
  const denyAll = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'deny-all', namespace: 'billing' },
    // Empty rules select no peer: they only isolate billing's pods in both directions.
    spec: { endpointSelector: {}, ingress: [{}], egress: [{}] },
  };
  const r = await watching(async (output) => {
    server.apply(denyAll);
    await until(() => /ADDED CiliumNetworkPolicy billing\/deny-all/.test(output().stdout), output);
    await until(() => /\] - billing\//.test(output().stdout), output);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[\d{4}-[^\]]+\] - billing\/invoicing\[CronJob\] => /m);
  server.delete('cilium.io/v2', 'CiliumNetworkPolicy', 'billing', 'deny-all');
  const paths = server.requests.filter((q) => q.query.watch === 'true').map((q) => q.path);
  assert.ok(paths.includes('/apis/cilium.io/v2/ciliumnetworkpolicies'));
  assert.ok(paths.includes('/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies'));
  // The fake server serves CiliumCIDRGroup as v2alpha1 only, as Cilium before 1.18 does.
  assert.ok(paths.includes('/apis/cilium.io/v2alpha1/ciliumcidrgroups'));
});

test('--live reads CNPs, CCNPs and CIDR groups, and says so where their CRDs are not installed', async (t) => {
  const cilium = [
    {
      apiVersion: 'cilium.io/v2alpha1',
      kind: 'CiliumCIDRGroup',
      metadata: { name: 'partner-labs' },
      spec: { externalCIDRs: ['198.51.100.0/24'] },
    },
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: 'records-to-labs' },
      spec: {
        endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'records' } },
        egress: [{ toCIDRSet: [{ cidrGroupRef: 'partner-labs' }, { cidrGroupRef: 'partner-lab' }] }],
      },
    },
  ];
  const withCilium = await FakeApiServer.start({ objects: [...clinicObjects(), ...cilium] });
  const without = await FakeApiServer.start({ objects: clinicObjects(), crds: false });
  t.after(() => Promise.all([withCilium.close(), without.close()]));
  const config = (s: FakeApiServer, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, s.kubeconfig());
    return file;
  };
  const file = join(dir, 'cilium-snapshot.json');
  const saved = await run(['snapshot', '--live', '--kubeconfig', config(withCilium, 'cilium'), '-o', file]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.doesNotMatch(saved.stderr, /cilium\.io/);
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(
    snapshot.items
      .filter((i: { apiVersion: string }) => i.apiVersion.startsWith('cilium.io/'))
      .map((i: { kind: string; metadata: { name: string } }) => `${i.kind} ${i.metadata.name}`)
      .sort(),
    ['CiliumCIDRGroup partner-labs', 'CiliumClusterwideNetworkPolicy records-to-labs'],
  );
  // Read, not just listed: lint finds the reference to a CIDR group the cluster does not hold.
  const lint = await run(['lint', '--live', '--kubeconfig', config(withCilium, 'cilium')]);
  assert.match(
    lint.stdout,
    /PW-LINT-031: .*records-to-labs egress\[0\] toCIDRSet matches nothing: its cidrGroupRef partner-lab names no/,
  );
  assert.doesNotMatch(lint.stdout, /cidrGroupRef partner-labs /);
  const bare = await run([
    'snapshot',
    '--live',
    '--kubeconfig',
    config(without, 'no-crds'),
    '-o',
    join(dir, 'bare.json'),
  ]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(
    bare.stderr,
    /^phiwall: not served by this cluster \(CRD not installed\), so not read: .*ciliumnetworkpolicies\.cilium\.io, ciliumclusterwidenetworkpolicies\.cilium\.io, ciliumcidrgroups\.cilium\.io$/m,
  );
});

test('a dropped watch reconnects, and a version too old to resume from is listed again', async () => {
  const r = await watching(async (output) => {
    server.dropWatches();
    await until(() => /reconnecting from resourceVersion/.test(output().stderr), output);
    server.apply(denyBilling);
    await until(() => /ADDED NetworkPolicy billing\/deny-all/.test(output().stdout), output);
    // History forgotten, then a drop: resuming from the last version seen gets 410 Gone.
    server.compact();
    server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all');
    server.compact();
    server.dropWatches();
    await until(() => /410 Gone\); listing again/.test(output().stderr), output);
    await until(() => /DELETED NetworkPolicy billing\/deny-all/.test(output().stdout), output);
    await until(() => /\] \+ billing\//.test(output().stdout), output);
  });
  assert.equal(r.code, 0, r.stderr);
});

test('watch --format json prints one object per batch', async () => {
  const r = await watching(
    async (output) => {
      server.apply(denyBilling);
      await until(() => /"removed"/.test(output().stdout), output);
    },
    '--format',
    'json',
  );
  const batch = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
  assert.deepEqual(batch.objects, [
    { type: 'ADDED', kind: 'NetworkPolicy', namespace: 'billing', name: 'deny-all' },
  ]);
  assert.equal(batch.incremental, true);
  assert.ok(batch.removed.length > 0);
  server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all');
});

test('watch --record appends an entry per change batch, and history since gives the intervals it saw', async () => {
  const db = join(dir, 'watch-history.db');
  server.apply(denyBilling);
  const toggle = [
    () => server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all'),
    () => server.apply(denyBilling),
    () => server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all'),
    () => server.apply(denyBilling),
  ];
  const r = await watching(
    async (output) => {
      await until(() => /history #1 recorded/.test(output().stderr), output);
      for (const [i, step] of toggle.entries()) {
        step();
        await until(() => new RegExp(`history #${i + 2} recorded`).test(output().stderr), output);
      }
    },
    '--record',
    '--db',
    db,
    '--config',
    CONFIG,
  );
  server.delete('networking.k8s.io/v1', 'NetworkPolicy', 'billing', 'deny-all');
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /history #6/);
  const since = await run([
    'history',
    'since',
    'billing/invoicing',
    'records/records-db',
    '--db',
    db,
    '-f',
    'json',
  ]);
  assert.equal(since.code, 0, since.stderr);
  const answer = JSON.parse(since.stdout) as {
    cluster: string;
    intervals: {
      opened: { seq: number; objects: { named: { change: string; object: string }[] } };
      closed?: { seq: number };
    }[];
  };
  assert.equal(answer.cluster, 'clinic');
  assert.deepEqual(
    answer.intervals.map((i) => [i.opened.seq, i.closed?.seq]),
    [
      [2, 3],
      [4, 5],
    ],
  );
  assert.deepEqual(
    answer.intervals[0]?.opened.objects.named.map((o) => `${o.change} ${o.object}`),
    ['removed NetworkPolicy billing/deny-all'],
  );
  const verified = await run(['history', 'verify', '--db', db]);
  assert.match(verified.stdout, /^OK: 5 entries/);
});

test('RBAC denials, bad credentials and unreachable servers are one clear line, exit 2', async (t) => {
  const denied = await FakeApiServer.start({
    tls: true,
    objects: clinicObjects(),
    forbidden: [{ verb: 'list', resource: 'pods' }],
  });
  t.after(() => denied.close());
  const deniedConfig = join(dir, 'denied');
  writeFileSync(deniedConfig, denied.kubeconfig());
  const r = await run(['connectivity', '--live', '--kubeconfig', deniedConfig]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^phiwall: RBAC denies "list" on "pods" \(API group ""\) in all namespaces: pods is forbidden: .*apply deploy\/rbac\.yaml/m,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);

  const wrongToken = join(dir, 'wrong-token');
  writeFileSync(wrongToken, server.kubeconfig({ token: 'expired' }));
  const unauthorized = await run(['audit', '--live', '--kubeconfig', wrongToken]);
  assert.equal(unauthorized.code, 2);
  assert.match(
    unauthorized.stderr,
    /rejected the credentials \(401 Unauthorized\): the token or client certificate is expired or invalid/,
  );

  const nowhere = join(dir, 'nowhere');
  writeFileSync(nowhere, server.kubeconfig().replace(server.url, 'https://127.0.0.1:9'));
  const unreachable = await run(['lint', '--live', '--kubeconfig', nowhere]);
  assert.equal(unreachable.code, 2);
  assert.match(
    unreachable.stderr,
    /^phiwall: cannot reach the API server at https:\/\/127\.0\.0\.1:9 \(context "fake-apiserver"\): .*ECONNREFUSED/m,
  );

  const badContext = await run([
    'explain',
    'a/b',
    'c/d',
    '--live',
    '--kubeconfig',
    kubeconfig,
    '--context',
    'prod',
  ]);
  assert.equal(badContext.code, 2);
  assert.match(badContext.stderr, /context "prod" is not in .* \(its contexts: clinic\)/);
});

test('--live options need --live, and --live takes no paths', async () => {
  const r = await run(['connectivity', CLINIC, '--context', 'prod']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--context needs --live/);
  const both = await run(['connectivity', CLINIC, '--live', '--kubeconfig', kubeconfig]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--live reads the cluster: leave out the paths/);
});

test('deploy/rbac.yaml grants get, list and watch on exactly what --live reads, never Secrets or ConfigMaps', async () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/rbac.yaml'), 'utf8')).map((d) => d.toJSON());
  const role = docs.find((d) => d.kind === 'ClusterRole');
  const granted = role.rules.flatMap(
    (rule: { apiGroups: string[]; resources: string[]; verbs: string[] }) => {
      assert.deepEqual(rule.verbs, ['get', 'list', 'watch']);
      return rule.apiGroups.flatMap((g) => rule.resources.map((r) => `${r}.${g}`));
    },
  );
  // A resource read in two versions (ciliumcidrgroups) is one grant.
  const read = new Set(LIVE_RESOURCES.map((r) => `${r.resource}.${r.group}`));
  assert.deepEqual(granted.sort(), [...read].sort());
  assert.ok(!granted.some((g: string) => /^(secrets|configmaps)\./.test(g)));
  const binding = docs.find((d) => d.kind === 'ClusterRoleBinding');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'phiwall', namespace: 'phiwall' }]);
});

function kubectlPath(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

test('kubectl runs phiwall as a plugin: kubectl phiwall --help', async (t) => {
  const kubectl = kubectlPath();
  if (!kubectl) return t.skip('kubectl is not installed (.ci/run installs it)');
  const env = { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}`, HOME: dir };
  // Asynchronously: the stand-in API server runs on this process's event loop.
  const help = await execFileAsync(kubectl, ['phiwall', '--help'], { env });
  assert.match(help.stdout, /^Usage: kubectl phiwall \[options\] \[command\]/m);
  assert.match(help.stdout, /audit --live/);
  const version = await execFileAsync(kubectl, ['phiwall', '--version'], { env });
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  // And it reads the cluster of the kubeconfig kubectl would use.
  const connectivity = await execFileAsync(kubectl, ['phiwall', 'connectivity', '--live'], {
    env: { ...env, KUBECONFIG: kubeconfig },
  });
  assert.match(connectivity.stdout, /=> records\/records-db\[StatefulSet\]/);
});
