import { Worker } from 'node:worker_threads';
import { countKeyTokens, looksLikeJson } from './json-key-tokens.ts';

// Runs in a worker thread: counts a JSON file's key tokens first (the parse waits for that), then
// hashes its bytes; each result is signalled through shared memory as it is ready.
const READ_WORKER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const countKeyTokens = ${countKeyTokens.toString()};
const looksLikeJson = ${looksLikeJson.toString()};
const flags = new Int32Array(workerData.shared, 0, 3);
let bytes;
try {
  bytes = readFileSync(workerData.path);
  const text = bytes.toString('utf8');
  if (looksLikeJson(workerData.path, text)) {
    flags[2] = countKeyTokens(text);
    Atomics.store(flags, 1, 1);
  } else {
    Atomics.store(flags, 1, 2);
  }
} catch {
  Atomics.store(flags, 1, 2);
}
Atomics.notify(flags, 1);
try {
  new Uint8Array(workerData.shared, 12, 32).set(createHash('sha256').update(bytes).digest());
  Atomics.store(flags, 0, 1);
} catch {
  Atomics.store(flags, 0, 2);
}
Atomics.notify(flags, 0);
`;

/** Files smaller than this are read on demand: a thread costs more than hashing or counting them. */
const BACKGROUND_MIN_BYTES = 4 * 1024 * 1024;

/** How long the main thread waits for the worker before doing the work itself. */
const WAIT_MS = 120_000;

export interface BackgroundRead {
  /** The sha256 of the file's bytes (what `sha256sum` prints, so an auditor can check it); undefined if the worker failed. */
  sha256: () => string | undefined;
  /** The file's JSON key tokens as counted by the worker; undefined when it did not count them. */
  keyTokens: () => number | undefined;
}

/**
 * The hash of a file, and for JSON its key count (see countKeyTokens), computed on the other core while
 * this one reads and parses: for a dump of tens of megabytes each is a tenth of the run. Started before
 * the main thread reads the file, so the worker's read overlaps it. Undefined for small files, whose
 * text is hashed and counted where it is needed. The functions block only when asked before the worker
 * is done.
 */
export function readInBackground(path: string, size: number): BackgroundRead | undefined {
  if (size < BACKGROUND_MIN_BYTES) return undefined;
  const shared = new SharedArrayBuffer(12 + 32);
  new Worker(READ_WORKER, { eval: true, workerData: { path, shared } }).unref();
  const flags = new Int32Array(shared, 0, 3);
  const done = (flag: number) => {
    Atomics.wait(flags, flag, 0, WAIT_MS);
    return Atomics.load(flags, flag) === 1;
  };
  let digest: string | undefined;
  return {
    sha256: () => {
      digest ??= done(0) ? Buffer.from(new Uint8Array(shared, 12, 32)).toString('hex') : undefined;
      return digest;
    },
    keyTokens: () => (done(1) ? Atomics.load(flags, 2) : undefined),
  };
}
