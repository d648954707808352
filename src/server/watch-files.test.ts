import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { watchInputs } from './watch-files.ts';

/** Collects batches; `next()` waits for the next one, `quiet()` checks that none comes. */
function collector() {
  const batches: string[][] = [];
  let waiting: ((batch: string[]) => void) | undefined;
  return {
    onChange(batch: string[]) {
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve(batch);
      } else batches.push(batch);
    },
    next(timeoutMs = 1500): Promise<string[]> {
      const queued = batches.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting = undefined;
          reject(new Error('no change reported'));
        }, timeoutMs);
        waiting = (batch) => {
          clearTimeout(timer);
          resolve(batch);
        };
      });
    },
    async quiet(ms = 300): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, ms));
      assert.deepEqual(batches, []);
    },
  };
}

function save(path: string, text: string): void {
  writeFileSync(`${path}.tmp~`, text);
  renameSync(`${path}.tmp~`, path);
}

const names = (batch: string[]) => batch.map((p) => basename(p));

test('a watched folder: every save (rename over) is reported, new subfolders are watched, swap files are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-watch-'));
  writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
  const seen = collector();
  const watch = watchInputs([dir], seen.onChange, { debounceMs: 30, syncMs: 100 });
  try {
    for (let i = 0; i < 3; i++) {
      save(join(dir, 'a.yaml'), `a: ${i + 2}\n`);
      assert.deepEqual(names(await seen.next()), ['a.yaml'], `save ${i + 1}`);
    }
    writeFileSync(join(dir, '.a.yaml.swp'), 'x');
    writeFileSync(join(dir, '4913'), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    await seen.quiet();
    mkdirSync(join(dir, 'sub'));
    assert.deepEqual(names(await seen.next()), ['sub']);
    writeFileSync(join(dir, 'sub', 'b.json'), '{}');
    assert.deepEqual(names(await seen.next()), ['b.json']);
    rmSync(join(dir, 'sub'), { recursive: true });
    assert.ok((await seen.next()).length > 0, 'a removed folder is a change');
  } finally {
    watch.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a watched file: its saves are reported, its neighbours are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-watch-'));
  const file = join(dir, 'policies.yaml');
  writeFileSync(file, 'a: 1\n');
  writeFileSync(join(dir, 'other.yaml'), 'b: 1\n');
  const seen = collector();
  const watch = watchInputs([file], seen.onChange, { debounceMs: 30, syncMs: 100 });
  try {
    save(join(dir, 'other.yaml'), 'b: 2\n');
    await seen.quiet();
    save(file, 'a: 2\n');
    assert.deepEqual(names(await seen.next()), ['policies.yaml']);
    save(file, 'a: 3\n');
    assert.deepEqual(names(await seen.next()), ['policies.yaml']);
  } finally {
    watch.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a watched folder replaced whole is watched again and reported', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'phiwall-watch-'));
  const dir = join(parent, 'k8s');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
  const seen = collector();
  const watch = watchInputs([dir], seen.onChange, { debounceMs: 30, syncMs: 100 });
  try {
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
    assert.ok((await seen.next()).length > 0);
    // Drain what the replacement reported, then the new folder's files are followed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    while (await seen.next(50).catch(() => undefined));
    save(join(dir, 'a.yaml'), 'a: 3\n');
    assert.deepEqual(names(await seen.next()), ['a.yaml']);
  } finally {
    watch.close();
    rmSync(parent, { recursive: true, force: true });
  }
});
