import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseStoreLocation } from '../history/db.ts';
import { HistoryStore } from '../history/store.ts';
import { runPhiwall } from '../testing/cli.ts';
import { testBackends } from '../testing/history-stores.ts';
import { buildProgram } from './main.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECURE = join(ROOT, 'examples/hipaa-clinic/secure');
const INSECURE = join(ROOT, 'examples/hipaa-clinic/insecure');
const CONFIG = join(ROOT, 'examples/hipaa-clinic/phiwall.yaml');
const BILLING_TO_RECORDS = 'billing/invoicing[CronJob] -> records/records-db[StatefulSet]';

const backends = await testBackends();
const dir = mkdtempSync(join(tmpdir(), 'phiwall-history-cli-'));
after(async () => {
  for (const backend of backends) await backend.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The secure clinic, with its policies from the secure or the insecure clinic (which lets billing reach records). */
function clinic(name: string, policies: 'secure' | 'insecure'): string {
  const folder = mkdtempSync(join(dir, `${name}-`));
  for (const file of ['00-namespaces.yaml', '10-workloads.yaml', '20-services.yaml']) {
    copyFileSync(join(SECURE, file), join(folder, file));
  }
  copyFileSync(
    join(policies === 'secure' ? SECURE : INSECURE, '30-policies.yaml'),
    join(folder, '30-policies.yaml'),
  );
  return folder;
}

async function ok(argv: string[]) {
  const run = await runPhiwall(argv);
  assert.equal(run.code, 0, `phiwall ${argv.join(' ')}: ${run.stderr}`);
  return run;
}

for (const backend of backends) {
  describe(`phiwall history on ${backend.name}`, { skip: backend.skip }, async () => {
    const { db } = backend.fresh();
    const closed = clinic(backend.name, 'secure');
    const open = clinic(`${backend.name}-open`, 'insecure');
    // One working folder whose policies file changes, as a repository's would.
    const work = clinic(`${backend.name}-work`, 'secure');
    const setPolicies = (from: string) =>
      copyFileSync(join(from, '30-policies.yaml'), join(work, '30-policies.yaml'));
    const outputs: string[] = [];
    for (const state of [closed, closed, open, closed, open, closed]) {
      setPolicies(state);
      outputs.push((await ok(['history', 'record', work, '--config', CONFIG, '--db', db])).stdout);
    }

    test('record stores a full entry on change and a check otherwise', () => {
      assert.match(outputs[0] ?? '', /^#1 default: recorded \d+ connections/);
      assert.equal(outputs[1], '#2 default: checked, connectivity and findings unchanged\n');
      assert.match(outputs[2] ?? '', /^#3 default: recorded \d+ connections, \d+ added/);
    });

    test('log shows the checks and the PHI connections and findings each change brought', async () => {
      const { stdout } = await ok(['history', 'log', '--db', db]);
      assert.match(stdout, /^#2 {2}default {2}checked 1 time, unchanged/m);
      const third = stdout.split(/^#4 /m)[0]?.split(/^#3 /m)[1] ?? '';
      assert.match(third, new RegExp(`\\+ PHI {2}${BILLING_TO_RECORDS.replace(/[[\]]/g, '\\$&')}`));
      assert.match(third, /failing {2}HIPAA-NP-\d+ /);
      const fourth = stdout.split(/^#4 /m)[1] ?? '';
      assert.match(fourth, new RegExp(`- PHI {2}${BILLING_TO_RECORDS.replace(/[[\]]/g, '\\$&')}`));
      assert.match(fourth, /fixed {4}HIPAA-NP-\d+ /);
    });

    test('since gives the two intervals billing could reach records, and what opened and closed them', async () => {
      for (const port of [[], ['--port', '5432']]) {
        const { stdout } = await ok([
          'history',
          'since',
          'billing/invoicing',
          'records/records-db',
          ...port,
          '--format',
          'json',
          '--db',
          db,
        ]);
        const answer = JSON.parse(stdout) as {
          intervals: {
            connection: string;
            opened: { seq: number; objects: { named: { change: string; object: string }[] } };
            closed?: { seq: number };
          }[];
        };
        assert.deepEqual(
          answer.intervals.map((i) => [i.connection, i.opened.seq, i.closed?.seq]),
          [
            [BILLING_TO_RECORDS, 3, 4],
            [BILLING_TO_RECORDS, 5, 6],
          ],
        );
        const opened = answer.intervals[0]?.opened.objects.named.map((o) => `${o.change} ${o.object}`) ?? [];
        assert.ok(opened.length > 0);
        assert.ok(
          opened.every((o) => / NetworkPolicy /.test(o)),
          opened.join(', '),
        );
      }
      const never = await ok(['history', 'since', 'billing/invoicing', 'nobody/there', '--db', db]);
      assert.match(never.stdout, /never allowed/);
    });

    test('show regenerates the audit report an entry recorded', async () => {
      // The working folder is as #6 recorded it.
      const shown = JSON.parse((await ok(['history', 'show', '6', '--format', 'json', '--db', db])).stdout);
      const audit = await runPhiwall([
        'audit',
        work,
        '--config',
        CONFIG,
        '--format',
        'json',
        '--fail-on',
        'never',
      ]);
      assert.equal(audit.code, 0, audit.stderr);
      const report = JSON.parse(audit.stdout);
      assert.ok(report.findings.length > 0);
      assert.deepEqual(shown.findings, report.findings);
      assert.deepEqual(shown.summary, report.summary);
      assert.deepEqual(shown.phi, report.phi);
      for (const format of ['text', 'md', 'html', 'sarif', 'junit']) {
        const { stdout } = await ok(['history', 'show', '3', '--format', format, '--db', db]);
        assert.ok(stdout.length > 200, format);
      }
      // A check shows the state it confirmed.
      const check = JSON.parse((await ok(['history', 'show', '2', '--format', 'json', '--db', db])).stdout);
      const first = JSON.parse((await ok(['history', 'show', '1', '--format', 'json', '--db', db])).stdout);
      assert.deepEqual(check.findings, first.findings);
    });

    test("diff between two entries is the diff command's answer", async () => {
      const fromHistory = JSON.parse(
        (await ok(['history', 'diff', '3', '4', '--format', 'json', '--db', db])).stdout,
      );
      const direct = await runPhiwall([
        'diff',
        open,
        closed,
        '--config',
        CONFIG,
        '--format',
        'json',
        '--fail-on',
        'never',
      ]);
      assert.equal(direct.code, 0, direct.stderr);
      const shape = (json: {
        summary: unknown;
        changes: { kind: string; src: unknown; dst: unknown; before: unknown; after: unknown }[];
      }) => ({
        summary: json.summary,
        changes: json.changes.map(({ kind, src, dst, before, after }) => ({ kind, src, dst, before, after })),
      });
      const expected = shape(JSON.parse(direct.stdout));
      assert.ok(expected.changes.length > 0);
      assert.deepEqual(shape(fromHistory), expected);
    });

    test('verify passes, export writes a bundle that verifies offline, and an edit fails verify with exit 1', async () => {
      const verified = await ok(['history', 'verify', '--db', db]);
      assert.match(verified.stdout, /^OK: 6 entries \(#1 to #6\) verify/);
      const bundle = join(dir, `bundle-${backend.name}.jsonl`);
      await ok(['history', 'export', '--from', '2', '--to', '5', '-o', bundle, '--db', db]);
      assert.match(
        (await ok(['history', 'verify', '--bundle', bundle])).stdout,
        /^OK: 4 entries \(#2 to #5\)/,
      );
      const store = await HistoryStore.open(parseStoreLocation(db));
      await store.db.run("UPDATE entries SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 4");
      await store.db.run(
        'UPDATE entries SET content = replace(content, \'"at":"\', \'"at":"1\') WHERE seq = 4',
      );
      await store.close();
      const failed = await runPhiwall(['history', 'verify', '--db', db]);
      assert.equal(failed.code, 1);
      assert.match(
        failed.stdout,
        /^FAILED: entry #4 was changed: its hash does not match its content\n3 entries before it verified\n$/,
      );
    });
  });
}

test('history names a store it cannot open in one line, exit status 2', async () => {
  const run = await runPhiwall(['history', 'log', '--db', 'postgres://nobody@127.0.0.1:1/none']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^phiwall: cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none: .*\n$/);
});

test('show of an entry that is not there', async () => {
  const run = await runPhiwall(['history', 'show', '7', '--db', join(dir, 'empty.db')]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'phiwall: no entry #7 in the history\n');
});

test('deploy/history-cronjob.yaml records every 5 minutes with flags history record takes, into its volume', async () => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy/history-cronjob.yaml'), 'utf8')).map((d) =>
    d.toJSON(),
  );
  const cron = docs.find((d) => d.kind === 'CronJob');
  assert.equal(cron.spec.schedule, '*/5 * * * *');
  assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
  const pod = cron.spec.jobTemplate.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'phiwall');
  const [container] = pod.containers;
  const args: string[] = container.args;
  assert.deepEqual(args.slice(0, 3), ['history', 'record', '--live']);
  const record = buildProgram({ stdout() {}, stderr() {}, readStdin: () => '' })
    .commands.find((c) => c.name() === 'history')
    ?.commands.find((c) => c.name() === 'record');
  const flags = new Set(record?.options.map((o) => o.long));
  const given = args.filter((a) => a.startsWith('--'));
  assert.ok(given.length > 3);
  for (const flag of given) assert.ok(flags.has(flag), `history record takes no ${flag}`);
  // Each file the arguments name lies on a mounted volume.
  const mounts: { name: string; mountPath: string }[] = container.volumeMounts;
  for (const flag of ['--db', '--config', '--sign-key']) {
    const path = args[args.indexOf(flag) + 1] as string;
    assert.ok(
      mounts.some((m) => path.startsWith(`${m.mountPath}/`)),
      `${flag} ${path} is on no volume`,
    );
  }
  const claim = pod.volumes.find((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim);
  assert.ok(
    docs.some(
      (d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === claim.persistentVolumeClaim.claimName,
    ),
  );
});
