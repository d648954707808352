/**
 * Flow-log benchmark: `npx tsx bench/flows.ts [--records N ...]` (default 100000 and 1000000).
 *
 * Writes a Hubble log laid out as Cilium emits it (src/testing/cilium-log.ts: verdicts at both ends,
 * traces at every observation point, replies) of about N records, then times `phiwall flows` on it in a
 * fresh process and reports its peak RSS. The generator's ground truth is checked against the output:
 * a fast wrong count is no result.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ciliumLog, type GeneratedPod } from '../src/testing/cilium-log.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = join(ROOT, 'bench', '.data', 'flows');
const BIN = join(ROOT, 'bin', 'phiwall');
const PRELOAD = join(ROOT, 'bench', 'rss-preload.mjs');

/** The generated pods as manifests, so that every end maps to a workload. */
function manifests(pods: readonly GeneratedPod[]): string {
  const namespaces = [...new Set(pods.map((p) => p.namespace))];
  return [
    ...namespaces.map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`),
    ...pods.map(
      (p) =>
        `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${p.name}\n  namespace: ${p.namespace}\n  labels:\n    app: ${p.workload}\nspec:\n  nodeName: ${p.node}\n  containers: [{ name: main, image: example }]\nstatus:\n  podIP: ${p.ip}\n  podIPs: [{ ip: ${p.ip} }]\n`,
    ),
  ].join('---\n');
}

/** A Hubble log of about `records` records and the manifests of its pods, written into `dir`. */
export function writeFlowLog(
  records: number,
  dir: string,
): { cluster: string; log: string; records: number; truth: number } {
  mkdirSync(dir, { recursive: true });
  // About 11 events per connection with policy verdicts (measured on the generator).
  const log = ciliumLog(1, { connections: Math.round(records / 11), policyVerdicts: true });
  const cluster = join(dir, `cluster-${records}.yaml`);
  writeFileSync(cluster, manifests(log.pods));
  const file = join(dir, `hubble-${records}.jsonl`);
  // Written in slices: a million records joined at once pass V8's longest string.
  const fd = openSync(file, 'w');
  for (let i = 0; i < log.lines.length; i += 10_000)
    writeSync(fd, `${log.lines.slice(i, i + 10_000).join('\n')}\n`);
  closeSync(fd);
  const truth = [...log.truth.values()].reduce((a, b) => a + b, 0);
  return { cluster, log: file, records: log.lines.length, truth };
}

function main(): void {
  const { values } = parseArgs({ options: { records: { type: 'string', multiple: true } } });
  const targets = (values.records ?? ['100000', '1000000']).map(Number);
  for (const records of targets) {
    const { cluster, log: file, records: lines, truth } = writeFlowLog(records, DATA);
    const rssFile = join(DATA, 'rss.json');
    const started = performance.now();
    const run = spawnSync(
      process.execPath,
      ['--import', PRELOAD, BIN, 'flows', file, cluster, '-f', 'json'],
      {
        env: { ...process.env, PHIWALL_BENCH_OUT: rssFile },
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
    );
    const wallMs = performance.now() - started;
    if (run.status !== 0 && run.status !== 1) throw new Error(`phiwall flows failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as {
      summary: { records: number; flows: number };
      gap: { count: number }[];
      needed: { count: number }[];
      droppedAllowed: { count: number }[];
      used: { count: number }[];
    };
    const counted = [...report.gap, ...report.needed, ...report.droppedAllowed, ...report.used].reduce(
      (n, e) => n + e.count,
      0,
    );
    const { maxRSS } = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRSS: number };
    console.log(
      `${lines} records (${(statSync(file).size / 1e6).toFixed(1)} MB): ${report.summary.flows} connections (truth ${truth}, on edges ${counted}); ${(wallMs / 1000).toFixed(1)} s, peak RSS ${(maxRSS / 1024).toFixed(0)} MB`,
    );
    if (counted !== truth) throw new Error(`counted ${counted} connections, the log holds ${truth}`);
    rmSync(file);
  }
}

// bench/run.ts imports the generator; only `tsx bench/flows.ts` runs the check.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
