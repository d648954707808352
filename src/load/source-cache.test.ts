import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, type Stats, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SourceCache } from './source-cache.ts';
import { readSources } from './sources.ts';

const HOUR = 3_600_000;

function stats(mtimeMs: number, size = 10): Stats {
  return { dev: 1, ino: 2, size, mtimeMs, ctimeMs: mtimeMs } as Stats;
}

test('SourceCache hands on the source read before while the stamp is unchanged and not recent', () => {
  const cache = new SourceCache();
  const old = Date.now() - HOUR;
  const first = cache.read('a.yaml', stats(old), false, () => ({ path: 'a.yaml', text: 'one' }));
  let reads = 0;
  const again = cache.read('a.yaml', stats(old), false, () => {
    reads++;
    return { path: 'a.yaml', text: 'two' };
  });
  assert.equal(again, first);
  assert.equal(reads, 0);
  // Any part of the stamp that moves is a change.
  const resized = cache.read('a.yaml', stats(old, 11), false, () => ({ path: 'a.yaml', text: 'three' }));
  assert.equal(resized?.text, 'three');
  const found = cache.read('a.yaml', stats(old, 11), true, () => ({
    path: 'a.yaml',
    text: 'four',
    found: true,
  }));
  assert.equal(found?.text, 'four');
});

test('SourceCache reads a file modified close to its read again, and compares the text', () => {
  const cache = new SourceCache();
  const recent = Date.now();
  const first = cache.read('a.yaml', stats(recent), false, () => ({ path: 'a.yaml', text: 'one' }));
  // A write within the file system's time granularity leaves the stamp as it was.
  const rewritten = cache.read('a.yaml', stats(recent), false, () => ({ path: 'a.yaml', text: 'two' }));
  assert.equal(rewritten?.text, 'two');
  const same = cache.read('a.yaml', stats(recent), false, () => ({ path: 'a.yaml', text: 'two' }));
  assert.equal(same, rewritten, 'the same text keeps the source, and what parsing it gave');
  assert.notEqual(first, rewritten);
});

test('SourceCache parses a source once, and forgets files no longer read', () => {
  const cache = new SourceCache();
  const old = Date.now() - HOUR;
  const source = cache.read('a.yaml', stats(old), false, () => ({ path: 'a.yaml', text: 'kind: Pod\n' }));
  assert.ok(source);
  assert.equal(cache.parse(source), cache.parse(source));
  cache.keepOnly([]);
  const reread = cache.read('a.yaml', stats(old), false, () => ({ path: 'a.yaml', text: 'kind: Pod\n' }));
  assert.notEqual(reread, source);
});

test('readSources with a cache: a file rewritten to the same size and modification time is read again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-cache-'));
  try {
    const file = join(dir, 'np.yaml');
    const other = join(dir, 'other.yaml');
    writeFileSync(file, 'kind: NetworkPolicy # one\n');
    writeFileSync(other, 'kind: Namespace\n');
    const old = new Date(Date.now() - HOUR);
    utimesSync(file, old, old);
    utimesSync(other, old, old);
    const cache = new SourceCache();
    const first = readSources([dir], { cache }).sources;
    assert.equal(first.find((s) => s.path === file)?.text, 'kind: NetworkPolicy # one\n');
    const { mtime } = statSync(file);
    writeFileSync(file, 'kind: NetworkPolicy # two\n');
    utimesSync(file, mtime, mtime);
    const second = readSources([dir], { cache }).sources;
    assert.equal(second.find((s) => s.path === file)?.text, 'kind: NetworkPolicy # two\n');
    assert.equal(
      second.find((s) => s.path === other),
      first.find((s) => s.path === other),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
