/**
 * The history's size and speed over six years: `npm run bench:history [-- --years 6]`.
 *
 * Records the M cluster once for real (every object, connection and finding), then simulates the rest
 * at the store: a check every 5 minutes (what `history record` appends when nothing changed) and one
 * change a day (one NetworkPolicy edited, the connections and findings it changes). Each simulated
 * day is written in one transaction rather than 288, which changes the time the simulation takes, not
 * what is stored. Then measures the SQLite file, `history since` on a connection changed every
 * few days (in-process and as a whole `phiwall` process), and `history verify` over the chain.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAuditConfig } from '../src/compliance/config.ts';
import { canonicalJson, sha256 } from '../src/history/canonical.ts';
import { captureSnapshot } from '../src/history/capture.ts';
import { parseStoreLocation } from '../src/history/db.ts';
import { reachableSince } from '../src/history/questions.ts';
import { recordCapture } from '../src/history/record.ts';
import { fileSource } from '../src/history/source-info.ts';
import { HistoryStore, type StateChange } from '../src/history/store.ts';
import { verifyChain } from '../src/history/verify.ts';
import { buildSnapshot } from '../src/load/snapshot.ts';
import { readSources } from '../src/load/sources.ts';
import { dataFiles, generate } from './generate.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'bench/.data');
const RESULTS_MD = join(ROOT, 'bench/RESULTS.md');
const MARK = '## History store';
const GIB = 1024 ** 3;

const { values } = parseArgs({
  options: { years: { type: 'string', default: '6' }, keep: { type: 'boolean' } },
});
const years = Number(values.years);
const days = Math.round(years * 365.25);
const checksPerDay = (24 * 60) / 5;

const files = dataFiles(DATA, 'M');
if (!existsSync(files.cluster)) {
  process.stderr.write('generating size M (seed 1) …\n');
  generate('M', 1, DATA);
}
const db = join(DATA, 'history-M.db');
for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

// 1. The first entry, for real: the M cluster with its connectivity and the audit's findings.
let start = process.hrtime.bigint();
const { sources } = readSources([files.cluster]);
const snapshot = buildSnapshot(sources);
const config = loadAuditConfig(join(ROOT, 'examples/hipaa-clinic/phiwall.yaml'));
const t0 = Date.UTC(2020, 0, 1);
const capture = captureSnapshot({
  cluster: 'bench-M',
  at: new Date(t0),
  ...fileSource([files.cluster], sources),
  snapshot,
  options: { ipBlockMatchesPods: true, hostNetwork: 'node' },
  config,
});
const store = await HistoryStore.open(parseStoreLocation(db));
const first = await recordCapture(store, capture);
const firstSeconds = seconds(start);
await store.db.run('PRAGMA wal_checkpoint(TRUNCATE)');
const firstBytes = statSync(db).size;
process.stderr.write(
  `first entry: ${capture.summary.objects} objects, ${capture.summary.connections} connections in ${firstSeconds.toFixed(1)} s\n`,
);

// 2. Six years: one change a day, a check every 5 minutes.
const policies = [...capture.states.object].filter(([key]) => key.includes('\tNetworkPolicy\t'));
const connections = [...capture.states.connection.keys()];
const findings = [...capture.states.finding.keys()];
/** The connection `history since` is asked about: opened and closed every 4th day. */
const watched = connections[0] as string;
const pick = <T>(list: readonly T[], day: number, salt: number): T =>
  list[(day * 7919 + salt * 104729) % list.length] as T;
let hashes = JSON.parse(first.entry.content) as {
  connectivityHash: string;
  findingsHash: string;
  inputsHash: string;
};
let fullSeq = first.entry.seq;
start = process.hrtime.bigint();
for (let day = 0; day < days; day++) {
  const dayStart = t0 + day * 86_400_000;
  await store.db.writeTransaction(async () => {
    for (let check = 1; check < checksPerDay; check++) {
      const at = new Date(dayStart + check * 300_000).toISOString();
      const content = { ...hashes, sameAs: fullSeq };
      await store.append({ cluster: 'bench-M', at, kind: 'check', content }, []);
    }
    // The day's change: a port added to one policy, which changes some connections and a finding.
    const [policyKey, policy] = pick(policies, day, 1);
    const edited = JSON.parse(policy) as { metadata: Record<string, unknown> };
    edited.metadata.annotations = { 'bench/day': String(day) };
    const changes: StateChange[] = [{ kind: 'object', key: policyKey, value: canonicalJson(edited) }];
    for (let i = 0; i < 20; i++) {
      const key = pick(connections, day, i + 2);
      if (key === watched) continue;
      changes.push({
        kind: 'connection',
        key,
        value: canonicalJson({ ports: { TCP: [[1000 + (day % 50), 1000 + (day % 50)]] }, dependsOn: [] }),
      });
    }
    if (day % 4 === 0 || day % 4 === 2) {
      changes.push({
        kind: 'connection',
        key: watched,
        value: day % 4 === 0 ? null : (capture.states.connection.get(watched) as string),
      });
    }
    if (findings.length > 0) {
      const key = pick(findings, day, 30);
      const finding = JSON.parse(capture.states.finding.get(key) as string);
      changes.push({
        kind: 'finding',
        key,
        value: canonicalJson({ ...finding, status: day % 2 ? 'fail' : 'pass' }),
      });
    }
    hashes = {
      connectivityHash: sha256(`c${day}`),
      findingsHash: sha256(`f${day}`),
      inputsHash: sha256(`i${day}`),
    };
    const entry = await store.append(
      {
        cluster: 'bench-M',
        at: new Date(dayStart + checksPerDay * 300_000 - 1).toISOString(),
        kind: 'full',
        content: { ...hashes, source: capture.source, options: capture.options, summary: capture.summary },
      },
      changes,
    );
    fullSeq = entry.seq;
  });
  if (day % 365 === 364)
    process.stderr.write(`year ${(day + 1) / 365} simulated (${seconds(start).toFixed(0)} s)\n`);
}
const simulateSeconds = seconds(start);
await store.db.run('PRAGMA wal_checkpoint(TRUNCATE)');
const [{ entries }] = (await store.db.all('SELECT count(*) AS entries FROM entries')) as [
  { entries: number },
];

// 3. `history since` on the watched connection, in-process, then as a user runs it.
const [from, to] = watched.split('\t') as [string, string];
start = process.hrtime.bigint();
const answer = await reachableSince(store, { from, to, cluster: 'bench-M' });
const sinceSeconds = seconds(start);
await store.close();
const bytes = statSync(db).size;
start = process.hrtime.bigint();
const cli = spawnSync(
  process.execPath,
  [join(ROOT, 'bin/phiwall'), 'history', 'since', from, to, '--db', db, '-f', 'json'],
  {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  },
);
const sinceCliSeconds = seconds(start);
if (cli.status !== 0) throw new Error(`phiwall history since failed: ${cli.stderr}`);
const intervals = (JSON.parse(cli.stdout) as { intervals: unknown[] }).intervals.length;
start = process.hrtime.bigint();
const verified = await (async () => {
  const again = await HistoryStore.open(parseStoreLocation(db));
  try {
    return await verifyChain(again);
  } finally {
    await again.close();
  }
})();
const verifySeconds = seconds(start);
if (!verified.ok) throw new Error(`the simulated history does not verify: ${verified.problem?.message}`);

const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;
const section = [
  MARK,
  '',
  `Written by \`npm run bench:history\` (bench/history.ts) on ${new Date().toISOString()}. The M cluster (${capture.summary.objects} objects, ${capture.summary.connections} connections, ${capture.states.finding.size} findings with examples/hipaa-clinic/phiwall.yaml) recorded once for real, then ${years} years simulated at the store: a check every 5 minutes and one change a day (one NetworkPolicy edited, 20 connections and one finding changed), one transaction per simulated day.`,
  '',
  '| measure | value | target | status |',
  '| --- | ---: | ---: | --- |',
  `| entries (checks and changes) | ${entries} | | |`,
  `| SQLite file after ${years} years | ${mib(bytes)} | < 2 GiB | **${bytes < 2 * GIB ? 'met' : 'missed'}** |`,
  `| of which the first (real) entry | ${mib(firstBytes)} | | |`,
  `| \`history since\` over ${years} years, in-process (${answer.intervals.length} intervals) | ${(sinceSeconds * 1000).toFixed(0)} ms | ≤ 1 s | **${sinceSeconds <= 1 ? 'met' : 'missed'}** |`,
  `| \`phiwall history since\`, whole process (${intervals} intervals) | ${(sinceCliSeconds * 1000).toFixed(0)} ms | ≤ 1 s | **${sinceCliSeconds <= 1 ? 'met' : 'missed'}** |`,
  `| \`history verify\` of the whole chain, in-process | ${verifySeconds.toFixed(1)} s | | |`,
  `| recording the first entry (load, connectivity, audit, write) | ${firstSeconds.toFixed(1)} s | | |`,
  `| simulating the ${days} days | ${simulateSeconds.toFixed(0)} s | | |`,
  '',
  `Load average when the run ended: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')} (2 cores shared with other work: times are upper bounds).`,
  '',
].join('\n');
const text = readFileSync(RESULTS_MD, 'utf8');
const at = text.indexOf(MARK);
writeFileSync(RESULTS_MD, `${at >= 0 ? text.slice(0, at) : `${text.trimEnd()}\n\n`}${section}`);
process.stdout.write(section);
if (!values.keep) for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
