import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { syntheticCapture, testBackends } from '../testing/history-stores.ts';
import { canonicalJson } from './canonical.ts';
import { StoreError } from './db.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { recordCapture } from './record.ts';
import { prune } from './retention.ts';
import { changesDigest, entryHash, GENESIS, HistoryStore, packValue } from './store.ts';
import { verifyChain } from './verify.ts';

const backends = await testBackends();
after(async () => {
  for (const backend of backends) await backend.cleanup();
});

const RECORDER = fileURLToPath(new URL('../testing/history-recorder.ts', import.meta.url));

/** Runs the recorder child; `onLine` sees each line it prints and may kill it. */
function recorder(
  args: string[],
  onLine?: (line: string, kill: () => void) => void,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RECORDER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      for (const line of text.split('\n')) if (line) onLine?.(line, () => child.kill('SIGKILL'));
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`recorder exited ${code}: ${err}`));
      else resolve({ code, signal, out });
    });
  });
}

const DAY = 86_400_000;

for (const backend of backends) {
  describe(`history store on ${backend.name}`, { skip: backend.skip }, () => {
    test('unchanged connectivity and findings record a check, not a copy', async () => {
      const store = await HistoryStore.open(backend.fresh().location);
      const first = await recordCapture(store, syntheticCapture({ open: ['web>db:5432'], objects: ['a'] }));
      const second = await recordCapture(
        store,
        syntheticCapture({ open: ['web>db:5432'], objects: ['a', 'b'] }),
      );
      const third = await recordCapture(
        store,
        syntheticCapture({ open: ['web>db:5433'], objects: ['a', 'b'] }),
      );
      const rows = await store.db.all<{ seq: number; n: number | string }>(
        'SELECT seq, count(*) AS n FROM states GROUP BY seq ORDER BY seq',
      );
      await store.close();
      assert.deepEqual([first.kind, second.kind, third.kind], ['full', 'check', 'full']);
      assert.equal(JSON.parse(second.entry.content).sameAs, 1);
      // #3 stores the connection that changed and object b, which #2 saw but did not need to store.
      assert.deepEqual(
        rows.map((r) => [r.seq, Number(r.n)]),
        [
          [1, 2],
          [3, 2],
        ],
      );
      assert.deepEqual(third.changes?.phi, {
        added: [],
        removed: [],
        changed: ['app/web[Deployment] -> app/db[Deployment]'],
        more: 0,
      });
    });

    test('retention prunes old entries behind a checkpoint; the chain and the state stay whole', async () => {
      const store = await HistoryStore.open(backend.fresh().location);
      const start = Date.UTC(2020, 0, 1);
      for (let day = 0; day < 6; day++) {
        await recordCapture(
          store,
          syntheticCapture({
            at: new Date(start + day * DAY),
            open: [`web>db:${day < 3 ? 5432 : 5433}`],
            objects: [`p${day}`],
          }),
        );
      }
      const before = await store.stateAt('test', 'object', 6);
      const result = await prune(store, new Date(start + 4 * DAY - 1));
      assert.ok(result);
      assert.equal(result.pruned.through, 4);
      assert.equal(result.pruned.entries, 4);
      const verified = await verifyChain(store);
      assert.equal(verified.ok, true, verified.problem?.message);
      assert.match(verified.anchor, /checkpoint of entries up to #4/);
      assert.deepEqual(await store.stateAt('test', 'object', 6), before);
      // The state kept from the pruned entries is covered by the checkpoint.
      await store.db.run("DELETE FROM states WHERE seq <= 4 AND kind = 'object'");
      const edited = await verifyChain(store);
      await store.close();
      assert.equal(edited.problem?.kind, 'changed');
      assert.match(edited.problem?.message ?? '', /kept from the pruned entries/);
    });

    test('a prefix removed without a checkpoint is named as removed', async () => {
      const store = await HistoryStore.open(backend.fresh().location);
      for (let i = 0; i < 4; i++) await recordCapture(store, syntheticCapture({ open: [`web>db:${i + 1}`] }));
      await store.db.run('DELETE FROM entries WHERE seq <= 2');
      await store.db.run('DELETE FROM states WHERE seq <= 2');
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['removed', 1]);
    });

    test('a recorder killed with SIGKILL inside a write leaves a store that verifies', async () => {
      const { db, location } = backend.fresh();
      let killedAt = -1;
      const run = await recorder([db, 'big', '50', '4000'], (line, kill) => {
        if (line === 'writing 2') {
          killedAt = 2;
          // Inside the third entry's transaction: its rows are being written.
          setTimeout(kill, 150);
        }
      });
      assert.equal(run.signal, 'SIGKILL');
      assert.equal(killedAt, 2);
      const store = await HistoryStore.open(location);
      const result = await verifyChain(store);
      const partial = await store.db.all('SELECT seq FROM states WHERE seq NOT IN (SELECT seq FROM entries)');
      await recordCapture(store, syntheticCapture({ cluster: 'big', open: ['web>db:1'] }));
      const after = await verifyChain(store);
      await store.close();
      assert.equal(result.ok, true, result.problem?.message);
      assert.ok(result.entries >= 2 && result.entries <= 3, `${result.entries} entries`);
      assert.deepEqual(partial, []);
      assert.equal(after.ok, true, after.problem?.message);
    });

    test('two recorders at once are serialised: every entry is kept and the chain verifies', async () => {
      const { db, location } = backend.fresh();
      await Promise.all([recorder([db, 'one', '15', '200']), recorder([db, 'two', '15', '200'])]);
      const store = await HistoryStore.open(location);
      const result = await verifyChain(store);
      const clusters = await store.db.all<{ cluster: string; n: number | string }>(
        'SELECT cluster, count(*) AS n FROM entries GROUP BY cluster ORDER BY cluster',
      );
      await store.close();
      assert.equal(result.ok, true, result.problem?.message);
      assert.equal(result.entries, 30);
      assert.deepEqual(
        clusters.map((c) => [c.cluster, Number(c.n)]),
        [
          ['one', 15],
          ['two', 15],
        ],
      );
    });

    test('an empty store is created at the current schema version', async () => {
      const store = await HistoryStore.open(backend.fresh().location);
      const [row] = await store.db.all<{ value: string }>(
        "SELECT value FROM meta WHERE key = 'schema_version'",
      );
      await store.close();
      assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
      assert.equal(row?.value, String(SCHEMA_VERSION));
    });

    test('a store of the first schema version is migrated on open, and its entries still verify', async () => {
      const { location } = backend.fresh();
      const old = await HistoryStore.open(location, { schemaVersion: 1 });
      assert.equal(await old.db.hasTable('entries'), true);
      // What the first version stored: the same chain, without the signing key's column.
      const capture = syntheticCapture({ open: ['web>db:5432'] });
      const first = await recordCaptureV1(old, capture);
      await old.close();
      const store = await HistoryStore.open(location);
      const [version] = await store.db.all<{ value: string }>(
        "SELECT value FROM meta WHERE key = 'schema_version'",
      );
      assert.equal(version?.value, String(SCHEMA_VERSION));
      const next = await recordCapture(store, syntheticCapture({ open: ['web>db:5433'] }));
      const result = await verifyChain(store);
      await store.close();
      assert.equal(first, 1);
      assert.equal(next.entry.seq, 2);
      assert.equal(result.ok, true, result.problem?.message);
    });

    test('a store written by a newer phiwall is refused with a clear message', async () => {
      const { location } = backend.fresh();
      const store = await HistoryStore.open(location);
      await store.db.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
      await store.close();
      await assert.rejects(HistoryStore.open(location), (error: Error) => {
        assert.ok(error instanceof StoreError);
        assert.match(
          error.message,
          /written by a newer phiwall \(schema version 99; this phiwall reads up to \d+\)/,
        );
        return true;
      });
    });

    if (backend.name === 'sqlite') {
      test('the SQLite file is readable by its owner only', async () => {
        const { db, location } = backend.fresh();
        const store = await HistoryStore.open(location);
        await recordCapture(store, syntheticCapture({ open: ['web>db:5432'] }));
        await store.close();
        assert.equal(statSync(db).mode & 0o777, 0o600);
      });
    }
  });
}

/** Writes an entry as the first schema version did: no key_id column existed. */
async function recordCaptureV1(
  store: HistoryStore,
  capture: ReturnType<typeof syntheticCapture>,
): Promise<number> {
  await assert.rejects(store.db.all('SELECT key_id FROM entries'));
  const changes = [...capture.states.connection].map(([key, value]) => ({
    kind: 'connection' as const,
    key,
    value,
  }));
  const content = canonicalJson({
    format: 1,
    seq: 1,
    cluster: capture.cluster,
    at: capture.at,
    kind: 'full',
    delta: { rows: changes.length, digest: changesDigest(changes) },
  });
  await store.db.run(
    'INSERT INTO entries (seq, cluster, at, kind, content, prev_hash, hash) VALUES (1, ?, ?, ?, ?, ?, ?)',
    [capture.cluster, capture.at, 'full', content, GENESIS, entryHash(GENESIS, content)],
  );
  for (const c of changes) {
    await store.db.run('INSERT INTO states (seq, cluster, kind, key, value) VALUES (1, ?, ?, ?, ?)', [
      capture.cluster,
      c.kind,
      c.key,
      packValue(c.value),
    ]);
  }
  return 1;
}
