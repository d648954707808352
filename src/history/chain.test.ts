import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { syntheticCapture, testBackends } from '../testing/history-stores.ts';
import { exportBundle, readBundle } from './bundle.ts';
import { canonicalJson } from './canonical.ts';
import { recordCapture } from './record.ts';
import { loadSigner, loadVerifier } from './signing.ts';
import { changesDigest, type EntryRow, entryHash, HistoryStore } from './store.ts';
import { verifyChain } from './verify.ts';

const backends = await testBackends();
const keys = mkdtempSync(join(tmpdir(), 'phiwall-keys-'));
after(async () => {
  for (const backend of backends) await backend.cleanup();
  rmSync(keys, { recursive: true, force: true });
});

function keyPair(name: string): { privateKey: string; publicKey: string } {
  const pair = generateKeyPairSync('ed25519');
  const privateKey = join(keys, `${name}.pem`);
  const publicKey = join(keys, `${name}.pub.pem`);
  writeFileSync(privateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKey };
}

/** Five full entries, each opening one more port from web to db. */
async function fiveEntries(store: HistoryStore, signKey?: string): Promise<void> {
  const signer = signKey ? loadSigner(signKey) : undefined;
  const open: string[] = [];
  for (let i = 1; i <= 5; i++) {
    open.push(`web>db:${5430 + i}`);
    await recordCapture(store, syntheticCapture({ open: [...open], objects: [`p${i}`] }), { signer });
  }
}

async function rows(store: HistoryStore): Promise<EntryRow[]> {
  return store.db.all<EntryRow>('SELECT * FROM entries ORDER BY seq');
}

for (const backend of backends) {
  describe(`hash chain on ${backend.name}`, { skip: backend.skip }, () => {
    const open = async () => HistoryStore.open(backend.fresh().location);

    test('an untouched chain verifies', async () => {
      const store = await open();
      await fiveEntries(store);
      const result = await verifyChain(store);
      await store.close();
      assert.equal(result.ok, true, result.problem?.message);
      assert.deepEqual([result.entries, result.first, result.last], [5, 1, 5]);
    });

    test('an edited entry is named as changed', async () => {
      const store = await open();
      await fiveEntries(store);
      await store.db.run(
        'UPDATE entries SET content = replace(content, \'"added":1\', \'"added":0\') WHERE seq = 3',
      );
      const { content } = (await store.entry(3)) as EntryRow;
      assert.match(content, /"added":0/);
      const result = await verifyChain(store);
      await store.close();
      assert.equal(result.problem?.kind, 'changed');
      assert.equal(result.problem?.seq, 3);
    });

    test('an edited state row (what an entry recorded) is named as changed', async () => {
      const store = await open();
      await fiveEntries(store);
      const [row] = await store.db.all<{ key: string }>(
        "SELECT key FROM states WHERE seq = 4 AND kind = 'connection'",
      );
      assert.ok(row);
      await store.db.run("UPDATE states SET value = NULL WHERE seq = 4 AND kind = 'connection' AND key = ?", [
        row.key,
      ]);
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['changed', 4]);
    });

    test('a deleted entry is named as removed', async () => {
      const store = await open();
      await fiveEntries(store);
      await store.db.run('DELETE FROM entries WHERE seq = 3');
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['removed', 3]);
      assert.equal(result.entries, 2);
    });

    test('a deleted entry is found even when the later ones are renumbered to close the gap', async () => {
      const store = await open();
      await fiveEntries(store);
      await store.db.run('DELETE FROM entries WHERE seq = 3');
      await store.db.run('DELETE FROM states WHERE seq = 3');
      for (const seq of [4, 5]) {
        await store.db.run('UPDATE entries SET seq = ? WHERE seq = ?', [seq - 1, seq]);
        await store.db.run('UPDATE states SET seq = ? WHERE seq = ?', [seq - 1, seq]);
      }
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['removed', 2]);
    });

    test('two entries swapped are named as reordered', async () => {
      const store = await open();
      await fiveEntries(store);
      const [third, fourth] = (await rows(store)).slice(2, 4) as [EntryRow, EntryRow];
      const put = (seq: number, row: EntryRow) =>
        store.db.run('UPDATE entries SET at = ?, content = ?, prev_hash = ?, hash = ? WHERE seq = ?', [
          row.at,
          row.content,
          row.prev_hash,
          row.hash,
          seq,
        ]);
      await put(3, fourth);
      await put(4, third);
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['reordered', 3]);
    });

    test('an entry inserted with a correct hash is named as inserted', async () => {
      const store = await open();
      await fiveEntries(store);
      // Make room at #3 the way an editor of the database would, then forge an entry chained to #2.
      for (const seq of [5, 4, 3]) {
        await store.db.run('UPDATE entries SET seq = ? WHERE seq = ?', [seq + 1, seq]);
        await store.db.run('UPDATE states SET seq = ? WHERE seq = ?', [seq + 1, seq]);
      }
      const second = (await store.entry(2)) as EntryRow;
      const forged = JSON.parse(((await store.entry(4)) as EntryRow).content);
      forged.summary.connections = 0;
      forged.delta = { rows: 0, digest: changesDigest([]) };
      const content = canonicalJson(forged);
      await store.db.run(
        "INSERT INTO entries (seq, cluster, at, kind, content, prev_hash, hash) VALUES (3, 'test', ?, 'full', ?, ?, ?)",
        [forged.at, content, second.hash, entryHash(second.hash, content)],
      );
      const result = await verifyChain(store);
      await store.close();
      assert.deepEqual([result.problem?.kind, result.problem?.seq], ['inserted', 3]);
    });

    test('signatures: the right key verifies; another key, or an unsigned store, does not', async () => {
      const a = keyPair(`a-${backend.name}`);
      const b = keyPair(`b-${backend.name}`);
      const store = await open();
      await fiveEntries(store, a.privateKey);
      const good = await verifyChain(store, { verifier: loadVerifier(a.publicKey) });
      assert.equal(good.ok, true, good.problem?.message);
      assert.equal(good.signed, 5);
      const wrong = await verifyChain(store, { verifier: loadVerifier(b.publicKey) });
      assert.deepEqual([wrong.problem?.kind, wrong.problem?.seq], ['signature', 1]);
      const unsigned = await open();
      await fiveEntries(unsigned);
      const none = await verifyChain(unsigned, { verifier: loadVerifier(a.publicKey) });
      assert.deepEqual([none.problem?.kind, none.problem?.seq], ['unsigned', 1]);
      await unsigned.close();
      await store.close();
    });

    test('an edit with the chain recomputed after it passes the hashes but not the signatures', async () => {
      const a = keyPair(`c-${backend.name}`);
      const store = await open();
      await fiveEntries(store, a.privateKey);
      let previous = ((await store.entry(2)) as EntryRow).hash;
      for (const row of (await rows(store)).slice(2)) {
        const content = row.seq === 3 ? row.content.replace('"added":1', '"added":0') : row.content;
        const hash = entryHash(previous, content);
        await store.db.run('UPDATE entries SET content = ?, prev_hash = ?, hash = ? WHERE seq = ?', [
          content,
          previous,
          hash,
          row.seq,
        ]);
        previous = hash;
      }
      assert.equal((await verifyChain(store)).ok, true);
      const signed = await verifyChain(store, { verifier: loadVerifier(a.publicKey) });
      await store.close();
      assert.deepEqual([signed.problem?.kind, signed.problem?.seq], ['signature', 3]);
    });

    test('an exported bundle verifies offline, and an edited one does not', async () => {
      const a = keyPair(`d-${backend.name}`);
      const store = await open();
      await fiveEntries(store, a.privateKey);
      const file = join(keys, `bundle-${backend.name}.jsonl`);
      const written = await exportBundle(store, file, { from: '2', to: '4' });
      await store.close();
      assert.deepEqual(written, { first: 2, last: 4, entries: 3 });
      const result = await verifyChain(readBundle(file), {
        verifier: loadVerifier(a.publicKey),
        trustStart: true,
      });
      assert.equal(result.ok, true, result.problem?.message);
      assert.deepEqual([result.first, result.last, result.signed], [2, 4, 3]);
      const text = readFileSync(file, 'utf8');
      const edited = text.replace('\\"added\\":1', '\\"added\\":0');
      assert.notEqual(edited, text);
      writeFileSync(file, edited);
      const verdict = await verifyChain(readBundle(file), { trustStart: true });
      assert.equal(verdict.problem?.kind, 'changed');
    });
  });
}
