import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread: hashes the file's bytes and signals through shared memory.
const HASH_WORKER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const flag = new Int32Array(workerData.shared, 0, 1);
try {
  new Uint8Array(workerData.shared, 4, 32).set(createHash('sha256').update(readFileSync(workerData.path)).digest());
  Atomics.store(flag, 0, 1);
} catch {
  Atomics.store(flag, 0, 2);
}
Atomics.notify(flag, 0);
`;

/** Files smaller than this are hashed on demand: a thread costs more than hashing them. */
const BACKGROUND_MIN_BYTES = 4 * 1024 * 1024;

/**
 * The sha256 of a file's bytes (what `sha256sum` prints, so an auditor can check it), computed on the
 * other core while the main thread parses: for a dump of tens of megabytes that is a tenth of the run.
 * The returned function blocks only if the hash is asked for before it is done.
 */
export function fileHash(path: string, size: number, text: string): () => string {
  if (size < BACKGROUND_MIN_BYTES) return () => createHash('sha256').update(text).digest('hex');
  const shared = new SharedArrayBuffer(4 + 32);
  new Worker(HASH_WORKER, { eval: true, workerData: { path, shared } }).unref();
  let digest: string | undefined;
  return () => {
    if (digest === undefined) {
      const flag = new Int32Array(shared, 0, 1);
      Atomics.wait(flag, 0, 0, 120_000);
      digest =
        Atomics.load(flag, 0) === 1
          ? Buffer.from(new Uint8Array(shared, 4, 32)).toString('hex')
          : createHash('sha256').update(text).digest('hex');
    }
    return digest;
  };
}
