// Node 20's test runner takes no globs, so the colocated *.test.ts files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

// A test that hangs fails after this long instead of holding the run until CI's limit; and when the
// tests have ended, a server or watcher a failed test left open must not keep the run waiting.
// PHIWALL_TEST_TIMEOUT_MS exists for src/testing/runner.test.ts, which proves both in a child run.
const timeoutMs = Number(process.env.PHIWALL_TEST_TIMEOUT_MS ?? 300_000);
const files = process.argv.length > 2 ? process.argv.slice(2) : findTests('src');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', `--test-timeout=${timeoutMs}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
