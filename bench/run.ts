/**
 * The benchmark: `npm run bench [-- --size S|M|L|none ...] [--series ID,...|none] [--small] [--runs N]
 *   [--seed N] [--timeout MINUTES]`. `--series` picks growth series (bench/series.ts; all by default),
 *   `--small` runs only their two smallest sizes, so a run fits a shared machine.
 *
 * Every step runs in a fresh child process, so one step's heap, caches and JIT state cannot flatter or
 * burden the next, and each process's peak RSS is that step's alone. Results are printed as Markdown and
 * merged into bench/RESULTS.md (sizes not run this time keep their previous section).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import {
  BENCH,
  BIN,
  type ChildRun,
  CLI,
  DATA,
  failure,
  fmtKiB,
  fmtMs,
  fmtRatio,
  KIB_PER_GIB,
  median,
  NODE_FLAGS,
  PRELOAD,
  phaseRow,
  processRow,
  ROOT,
  type Row,
  repeat,
  runChild,
  setStepTimeout,
  stepTimeoutMinutes,
} from './child.ts';
import { type Counts, dataFiles, SIZES, type Size } from './generate.ts';
import {
  MAX_EXPONENT,
  measureSeries,
  SERIES,
  type SeriesResult,
  seriesSection,
  seriesVerdict,
} from './series.ts';

const HISTORY_SECTION = '## History store';
const RESULTS_MD = join(BENCH, 'RESULTS.md');
const STEP_BUNDLE = join(DATA, 'step.mjs');
const FLOOR = join(BENCH, 'floor.mjs');
const PHI_CONFIG = join(BENCH, 'phi-tier.yaml');
const GENERATOR_SOURCES = [join(BENCH, 'generate.ts'), join(BENCH, 'random.ts')];

/** The targets the engine work is judged by. */
const TARGETS = {
  connectivityM: { floorRatio: 4, rssKiB: 1 * KIB_PER_GIB },
  connectivityL: { floorRatio: 6, rssKiB: 3 * KIB_PER_GIB },
  incrementalMs: 100,
  /** `phiwall lint` against `phiwall connectivity` on the same input, time and memory. */
  lintVsConnectivity: 2,
  speedup: 1000,
  versionMs: 250,
  /** Every other command on M against `phiwall connectivity`'s wall time, and its RSS. */
  commandsM: { vsConnectivity: 2.5, rssKiB: 1 * KIB_PER_GIB },
  commandsL: { rssKiB: 3 * KIB_PER_GIB },
  /** Loading and validation (b) against the JSON.parse floor (a). */
  loadFloorRatio: 1.5,
};

/** The rows of the commands other than `connectivity` that every-command targets judge. */
const COMMAND_KEYS = ['cli-lint', 'cli-diff', 'cli-audit', 'explain', 'cli-test'] as const;

interface SizeResult {
  size: Size;
  seed: number;
  runs: number;
  date: string;
  commit: string;
  machine: string;
  counts: Counts;
  info: Record<string, number | string | boolean>;
  rows: Row[];
  speedup?: Speedup;
}

/**
 * The engine against the reference, per pod pair (each asked the whole question set) and extrapolated
 * to all P² pod pairs. The cold sample pays for building the rows it touches, which all P² pairs would
 * share, so extrapolating it linearly overstates the engine's time and extrapolating the warm sample understates it;
 * `amortisedMs` charges every row once (at the sample's average cost per row) plus a warm lookup per pair.
 */
interface Speedup {
  pairs: number;
  referencePerPairMs: number;
  coldPerPairMs: number;
  warmPerPairMs: number;
  amortisedMs: number;
}

interface VersionResult {
  date: string;
  commit: string;
  medianMs: number;
  runsMs: number[];
  error?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Set-up

function sh(command: string, args: readonly string[]): string {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function commitDescription(): string {
  const head = sh('git', ['rev-parse', '--short', 'HEAD']) || 'unknown';
  return sh('git', ['status', '--porcelain', '--', 'src']) ? `${head} + uncommitted changes in src/` : head;
}

function cpuModel(): string {
  try {
    return (
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU'
    );
  } catch {
    // Not Linux: the CPU model is a nicety, not a reason to fail.
    return 'unknown CPU';
  }
}

/** One line per size section: a section kept from an earlier run may come from another machine. */
function machineSummary(): string {
  return `${cpuModel()}, ${availableParallelism()} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node.js ${process.version}`;
}

function machine(): string[] {
  return [
    `- CPU: ${cpuModel()}, ${availableParallelism()} cores`,
    `- Memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Node.js: ${process.version} (children run with \`${NODE_FLAGS.join(' ')}\`)`,
    `- Date: ${new Date().toISOString()}`,
    // Other work on the machine skews wall times; the load average makes a noisy run recognisable.
    `- Load average when the run ended: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  ];
}

async function buildAll(): Promise<void> {
  process.stderr.write('npm run build …\n');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
  mkdirSync(DATA, { recursive: true });
  // The library steps run as one plain-JavaScript bundle, like dist/, so no TypeScript loader is measured.
  await build({
    entryPoints: [join(BENCH, 'step.ts')],
    outfile: STEP_BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
}

function generatorHash(): string {
  const hash = createHash('sha256');
  for (const file of GENERATOR_SOURCES) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** The cluster and tests files for a size, generated only when missing or made by another generator or seed. */
function ensureData(size: Size, seed: number): Counts {
  const files = dataFiles(DATA, size);
  const generator = generatorHash();
  if (existsSync(files.meta) && existsSync(files.cluster) && existsSync(files.tests)) {
    const meta = JSON.parse(readFileSync(files.meta, 'utf8')) as {
      seed: number;
      generator: string;
      counts: Counts;
    };
    if (meta.seed === seed && meta.generator === generator) return meta.counts;
  }
  process.stderr.write(`generating size ${size} (seed ${seed}) …\n`);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(BENCH, 'generate.ts'), '--size', size, '--seed', String(seed), '--out', DATA],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`generating size ${size} failed`);
  const { counts } = JSON.parse(r.stdout) as { counts: Counts };
  writeFileSync(files.meta, `${JSON.stringify({ seed, generator, counts }, null, 2)}\n`);
  return counts;
}

/**
 * The cluster with one policy changed, as a pull request would change it: a port added to the first
 * ingress rule that lists ports. Written once beside the cluster file.
 */
function changedCluster(cluster: string): { file: string; note: string } {
  const file = cluster.replace(/\.json$/, '-changed.json');
  type Policy = {
    kind: string;
    metadata: { namespace: string; name: string };
    spec?: { ingress?: { ports?: unknown[] }[] };
  };
  const list = JSON.parse(readFileSync(cluster, 'utf8')) as { items: Policy[] };
  let note = 'no policy with ingress ports to change';
  for (const item of list.items) {
    if (item.kind !== 'NetworkPolicy') continue;
    const rule = (item.spec?.ingress ?? []).find((r) => Array.isArray(r.ports));
    if (!rule?.ports) continue;
    rule.ports.push({ protocol: 'TCP', port: 31337 });
    note = `TCP 31337 added to ${item.metadata.namespace}/${item.metadata.name} ingress[0]`;
    break;
  }
  writeFileSync(file, JSON.stringify(list));
  return { file, note };
}

// ---------------------------------------------------------------------------------------------------------
// Steps

async function measureVersion(): Promise<VersionResult> {
  const runsMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await runChild(['--import', PRELOAD, BIN, '--version'], '--version');
    const date = new Date().toISOString();
    if (r.code !== 0)
      return { date, commit: commitDescription(), medianMs: Number.NaN, runsMs, error: failure(r) };
    runsMs.push(r.wallMs);
  }
  return { date: new Date().toISOString(), commit: commitDescription(), medianMs: median(runsMs), runsMs };
}

async function measureSize(size: Size, seed: number, runs: number): Promise<SizeResult> {
  const counts = ensureData(size, seed);
  const { cluster, tests } = dataFiles(DATA, size);
  const rows: Row[] = [];
  const info: SizeResult['info'] = { fileMiB: Number((statSync(cluster).size / 2 ** 20).toFixed(1)) };
  const merge = (all: ChildRun[]) => {
    for (const r of all) Object.assign(info, r.report?.info ?? {});
  };
  const step = (name: string) => `node ${STEP_BUNDLE.slice(ROOT.length)} ${name}`;
  process.stderr.write(
    `size ${size}: ${counts.pods} pods, ${counts.policies} policies, ${info.fileMiB} MiB\n`,
  );

  const floor = await repeat(runs, [FLOOR, cluster], 'floor');
  const parseMs = median(floor.flatMap((r) => r.report?.phases.map((p) => p.ms) ?? []));
  rows.push(
    processRow(
      'floor',
      '(a) floor: `node` reads + JSON.parses the file',
      floor,
      [0],
      `parse in-process ${fmtMs(parseMs)}`,
    ),
  );

  const load = await repeat(runs, [STEP_BUNDLE, 'load', cluster], step('load'));
  merge(load);
  rows.push(phaseRow('load', '(b) load + validate (`loadSnapshot`, in-process)', load, 'load'));

  const engine = await repeat(runs, [STEP_BUNDLE, 'engine', cluster], step('engine'));
  merge(engine);
  rows.push(
    phaseRow(
      'engine',
      '(c) `new Engine(snapshot)` (in-process)',
      engine,
      'engine',
      `${info.classes ?? '?'} classes`,
    ),
    phaseRow(
      'compute',
      '(c′) `computeConnectivity(engine)`, first call (in-process)',
      engine,
      'connectivity',
      info.connections === undefined ? '' : `${info.connections} connections`,
    ),
  );

  const cli = CLI;
  const connectivity = await repeat(
    runs,
    [...cli, 'connectivity', cluster, '--format', 'json'],
    'phiwall connectivity',
  );
  rows.push(
    processRow('cli-connectivity', '(d) `phiwall connectivity FILE --format json`', connectivity, [0]),
  );
  const lint = await repeat(runs, [...cli, 'lint', cluster, '--format', 'json'], 'phiwall lint');
  // Exit 1 means an error-level problem was found: the generated clusters have some on purpose.
  rows.push(processRow('cli-lint', '(d′) `phiwall lint FILE --format json`', lint, [0, 1]));
  const changed = changedCluster(cluster);
  const diff = await repeat(
    runs,
    [...cli, 'diff', cluster, changed.file, '--format', 'json', '--fail-on', 'never'],
    'phiwall diff',
  );
  rows.push(
    processRow(
      'cli-diff',
      '(d″) `phiwall diff FILE FILE′ --format json`, FILE′ = FILE with one policy changed',
      diff,
      [0],
      changed.note,
    ),
  );
  const audit = await repeat(
    runs,
    [...cli, 'audit', cluster, '--config', PHI_CONFIG, '--format', 'json', '--fail-on', 'never'],
    'phiwall audit',
  );
  rows.push(
    processRow(
      'cli-audit',
      '(d‴) `phiwall audit FILE --config bench/phi-tier.yaml --format json`',
      audit,
      [0],
      'every `tier: db` pod holds PHI',
    ),
  );
  const explain = await repeat(
    runs,
    [STEP_BUNDLE, 'explain', cluster, '--seed', String(seed)],
    step('explain'),
  );
  merge(explain);
  rows.push(
    phaseRow(
      'explain',
      `(i) \`explainConnection\` + its JSON, ${info.explainPairs ?? '?'} random workload pairs, TCP 8080 (in-process)`,
      explain,
      'explain',
      `${info.explainAllowed ?? '?'} allowed`,
    ),
  );

  const testRuns = await repeat(
    runs,
    [...cli, 'test', cluster, '--tests', tests, '--format', 'json'],
    'phiwall test',
  );
  rows.push(
    processRow(
      'cli-test',
      `(e) \`phiwall test FILE --tests TESTS --format json\` (${counts.tests} tests)`,
      testRuns,
      // Some generated expectations are wrong on purpose, so exit 1 (a test failed) is the normal outcome.
      [0, 1],
    ),
  );

  const incremental = await repeat(
    runs,
    [STEP_BUNDLE, 'incremental', cluster, '--seed', String(seed)],
    step('incremental'),
  );
  merge(incremental);
  const missing = info.missing !== undefined;
  const changes = `${info.changes ?? '?'} changes to ${info.changedPolicies ?? '?'} policies`;
  for (const [key, title] of [
    ['replace-port', "(f) `engine.replacePolicy`: a port added to one allow policy's rule (first change)"],
    ['replace-peer', '(f) `engine.replacePolicy`: then the same rule’s peers replaced'],
    ['replace-median', `(f) \`engine.replacePolicy\`: median of ${changes}`],
    ['replace-max', `(f) \`engine.replacePolicy\`: slowest of the ${changes}`],
  ] as const) {
    rows.push(
      missing
        ? { key, step: title, status: 'n/a', note: 'n/a (Engine.replacePolicy missing)' }
        : phaseRow(key, title, incremental, key),
    );
  }

  const reference = await repeat(
    runs,
    [STEP_BUNDLE, 'reference', cluster, '--seed', String(seed)],
    step('reference'),
  );
  merge(reference);
  const questions = `${info.pairs ?? '?'} pairs × ${info.questions ?? '?'} questions`;
  rows.push(
    phaseRow(
      'reference',
      `(g) \`referenceAllows\`, ${questions}`,
      reference,
      'reference',
      `${info.allowed ?? '?'} allowed`,
    ),
    phaseRow(
      'engine-cold',
      '(g) engine `portsBetween` + `contains`, same sample, cold',
      reference,
      'engine-cold',
      info.disagreements === undefined ? '' : `${info.disagreements} answers differ from the reference`,
    ),
    phaseRow('engine-warm', '(g) engine, same sample, warm (rows cached)', reference, 'engine-warm'),
  );
  const perPair = (key: string) => {
    const ms = rows.find((r) => r.key === key)?.wallMs;
    return ms === undefined ? undefined : ms / Number(info.pairs);
  };
  const [referencePerPairMs, coldPerPairMs, warmPerPairMs] = ['reference', 'engine-cold', 'engine-warm'].map(
    perPair,
  );
  let speedup: Speedup | undefined;
  if (referencePerPairMs !== undefined && coldPerPairMs !== undefined && warmPerPairMs !== undefined) {
    const sample = Number(info.pairs);
    const pairs = counts.pods ** 2;
    const perRowMs = Math.max(0, (coldPerPairMs - warmPerPairMs) * sample) / Number(info.touchedRows);
    const amortisedMs = perRowMs * 2 * Number(info.classes) + warmPerPairMs * pairs;
    speedup = { pairs, referencePerPairMs, coldPerPairMs, warmPerPairMs, amortisedMs };
  }

  return {
    size,
    seed,
    runs,
    date: new Date().toISOString(),
    commit: commitDescription(),
    machine: machineSummary(),
    counts,
    info,
    rows,
    ...(speedup ? { speedup } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

function rowOf(result: SizeResult | undefined, key: string): Row | undefined {
  return result?.rows.find((r) => r.key === key);
}

function floorRatio(result: SizeResult, row: Row): number | undefined {
  const floor = rowOf(result, 'floor')?.wallMs;
  return row.wallMs !== undefined && floor ? row.wallMs / floor : undefined;
}

function sizeSection(result: SizeResult): string {
  const { counts, info } = result;
  const lines = [
    `## Size ${result.size}`,
    '',
    `${counts.namespaces} namespaces, ${counts.pods} pods, ${info.workloads ?? '?'} workloads (Deployments), ` +
      `${counts.policies} NetworkPolicies, ${info.classes ?? '?'} pod classes; ${counts.deployments} Deployments and ` +
      `${counts.replicaSets} ReplicaSets; ${info.fileMiB} MiB of JSON. Seed ${result.seed}, ${result.runs} run(s) per step ` +
      `(median time, largest RSS), ${result.date}, commit ${result.commit}; ${result.machine}.`,
    '',
    '| step | wall time | peak RSS | × floor | notes |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of result.rows) {
    const ratio = floorRatio(result, row);
    const wall = row.status === 'ok' ? fmtMs(row.wallMs) : row.status === 'n/a' ? 'n/a' : row.status;
    lines.push(
      `| ${row.step} | ${wall} | ${fmtKiB(row.maxRSS)} | ${ratio === undefined ? '–' : `${fmtRatio(ratio)}×`} | ${row.note.replaceAll('|', '\\|')} |`,
    );
  }
  const s = result.speedup;
  if (s) {
    const referenceMs = s.referencePerPairMs * s.pairs;
    const versus = (ms: number) => `${fmtMs(ms)}, ${fmtRatio(referenceMs / ms)}× faster`;
    lines.push(
      '',
      `Engine vs reference, each pod pair asked ${info.questions} questions, extrapolated from ${info.pairs} sampled pairs ` +
        `to all ${counts.pods}² = ${s.pairs.toExponential(2)} pairs: reference ${fmtMs(s.referencePerPairMs)}/pair → ` +
        `${fmtMs(referenceMs)}; engine **${versus(s.amortisedMs)}** amortised (every row built once, ` +
        `${info.touchedRows} of ${2 * Number(info.classes)} rows built by the cold sample, then a cached lookup per pair); ` +
        `bounds: cold ${fmtMs(s.coldPerPairMs)}/pair → ${versus(s.coldPerPairMs * s.pairs)}, ` +
        `warm ${fmtMs(s.warmPerPairMs)}/pair → ${versus(s.warmPerPairMs * s.pairs)}. ` +
        `${info.disagreements === 0 ? 'Engine and reference agree on every sampled answer.' : `**${info.disagreements} answers differ.**`}`,
    );
  }
  return lines.join('\n');
}

function sumWall(result: SizeResult, keys: readonly string[]): number | undefined {
  const walls = keys.map((key) => result.rows.find((r) => r.key === key && r.status === 'ok')?.wallMs);
  return walls.every((w) => w !== undefined)
    ? walls.reduce((a, b) => (a as number) + (b as number), 0)
    : undefined;
}

type Verdict = { target: string; measured: string; status: 'met' | 'missed' | 'not measured' };

function judge(
  target: string,
  measured: string | undefined,
  met: boolean | undefined,
  why = 'not measured',
): Verdict {
  if (measured === undefined || met === undefined) return { target, measured: why, status: 'not measured' };
  return { target, measured, status: met ? 'met' : 'missed' };
}

function connectivityVerdict(
  result: SizeResult | undefined,
  size: Size,
  limits: { floorRatio: number; rssKiB: number },
): Verdict {
  const target = `${size}: \`phiwall connectivity\` ${size === 'L' ? 'completes, ' : ''}≤ ${limits.floorRatio}× floor and ≤ ${fmtKiB(limits.rssKiB)} RSS`;
  const row = rowOf(result, 'cli-connectivity');
  if (!result || !row) return judge(target, undefined, undefined, `size ${size} not run`);
  if (row.status !== 'ok') return { target, measured: `${row.status}: ${row.note}`, status: 'missed' };
  const ratio = floorRatio(result, row);
  if (ratio === undefined || row.maxRSS === undefined) return judge(target, undefined, undefined);
  return judge(
    target,
    `${fmtRatio(ratio)}× floor (${fmtMs(row.wallMs)}), ${fmtKiB(row.maxRSS)}`,
    ratio <= limits.floorRatio && row.maxRSS <= limits.rssKiB,
  );
}

function lintVerdict(m: SizeResult | undefined): Verdict {
  const limit = TARGETS.lintVsConnectivity;
  const target = `M: \`phiwall lint\` ≤ ${limit}× the time and the RSS of \`phiwall connectivity\``;
  const [lint, connectivity] = [rowOf(m, 'cli-lint'), rowOf(m, 'cli-connectivity')];
  if (!m) return judge(target, undefined, undefined, 'size M not run');
  if (!lint?.wallMs || !connectivity?.wallMs || !lint.maxRSS || !connectivity.maxRSS)
    return judge(target, undefined, undefined);
  const time = lint.wallMs / connectivity.wallMs;
  const rss = lint.maxRSS / connectivity.maxRSS;
  return judge(
    target,
    `${fmtRatio(time)}× the time (${fmtMs(lint.wallMs)}), ${fmtRatio(rss)}× the RSS (${fmtKiB(lint.maxRSS)})`,
    time <= limit && rss <= limit,
  );
}

function loadVerdict(m: SizeResult | undefined): Verdict {
  const target = `M: load + validate (b) ≤ ${TARGETS.loadFloorRatio}× floor`;
  const row = rowOf(m, 'load');
  const ratio = m && row ? floorRatio(m, row) : undefined;
  if (!m || ratio === undefined)
    return judge(target, undefined, undefined, m ? 'not measured' : 'size M not run');
  return judge(target, `${fmtRatio(ratio)}× floor (${fmtMs(row?.wallMs)})`, ratio <= TARGETS.loadFloorRatio);
}

/** M: each command within a multiple of connectivity's time and a memory limit; L: within its memory limit. */
function commandsVerdict(result: SizeResult | undefined): Verdict {
  const m = result?.size !== 'L';
  const { rssKiB } = m ? TARGETS.commandsM : TARGETS.commandsL;
  const limit = TARGETS.commandsM.vsConnectivity;
  const target = m
    ? `M: every command (lint, diff, audit, explain ×1000, test) ≤ ${limit}× \`connectivity\`'s time and ≤ ${fmtKiB(rssKiB)}`
    : `L: every command completes within ${fmtKiB(rssKiB)}`;
  const connectivity = rowOf(result, 'cli-connectivity')?.wallMs;
  const rows = COMMAND_KEYS.map((key) => rowOf(result, key)).filter((r): r is Row => r !== undefined);
  if (!result || rows.length === 0 || (m && !connectivity)) return judge(target, undefined, undefined);
  const parts = rows.map((r) => {
    if (r.status !== 'ok' || r.wallMs === undefined) return { text: `${r.key} ${r.status}`, ok: false };
    const times = m ? r.wallMs / (connectivity as number) : undefined;
    const ok = (times === undefined || times <= limit) && (r.maxRSS ?? Number.POSITIVE_INFINITY) <= rssKiB;
    const text = `${r.key} ${times === undefined ? fmtMs(r.wallMs) : `${fmtRatio(times)}×`} ${fmtKiB(r.maxRSS)}`;
    return { text: ok ? text : `**${text}**`, ok };
  });
  return judge(
    target,
    parts.map((p) => p.text).join(', '),
    parts.every((p) => p.ok),
  );
}

function verdicts(results: Partial<Record<Size, SizeResult>>, version: VersionResult | undefined): Verdict[] {
  const m = results.M;
  // Judged on the slowest change measured: a watch loop is only as quick as its worst edit.
  const slowestChange = ['replace-port', 'replace-peer', 'replace-max']
    .map((k) => rowOf(m, k))
    .filter((r): r is Row => r !== undefined);
  const incrementalTarget = `M: one-policy incremental update (\`replacePolicy\`, slowest of the changes measured) ≤ ${TARGETS.incrementalMs} ms`;
  let incremental: Verdict;
  if (!m || slowestChange.length === 0)
    incremental = judge(incrementalTarget, undefined, undefined, m ? 'not measured' : 'size M not run');
  else if (slowestChange.some((r) => r.status === 'n/a'))
    incremental = judge(incrementalTarget, undefined, undefined, 'n/a (Engine.replacePolicy missing)');
  else if (slowestChange.some((r) => r.status !== 'ok'))
    incremental = {
      target: incrementalTarget,
      measured: slowestChange.map((r) => r.status).join(', '),
      status: 'missed',
    };
  else {
    const ms = Math.max(...slowestChange.map((r) => r.wallMs ?? Number.POSITIVE_INFINITY));
    const typical = rowOf(m, 'replace-median')?.wallMs;
    incremental = judge(
      incrementalTarget,
      `${fmtMs(ms)} slowest, ${fmtMs(typical)} median`,
      ms <= TARGETS.incrementalMs,
    );
  }
  const speedupTarget = `M: engine ≥ ${TARGETS.speedup}× faster than the reference (the question set over all P² pod pairs)`;
  const s = m?.speedup;
  // The engine answers every question for every pair at once: building it (c) and enumerating every
  // allowed connection (c′); anything not enumerated is denied. That is what the target is judged on;
  // the per-pair lookup (one question batch at a time, extrapolated) is shown beside it.
  const wholeMs = m ? sumWall(m, ['engine', 'compute']) : undefined;
  const wholeRatio = s && wholeMs ? (s.referencePerPairMs * s.pairs) / wholeMs : undefined;
  const lookupRatio = s ? (s.referencePerPairMs * s.pairs) / s.amortisedMs : undefined;
  const speedup =
    s && wholeRatio !== undefined
      ? judge(
          speedupTarget,
          `${fmtRatio(wholeRatio)}× for all pairs at once ((c)+(c′) ${fmtMs(wholeMs)}); ${fmtRatio(lookupRatio as number)}× pair by pair, amortised (bounds: ${fmtRatio(s.referencePerPairMs / s.coldPerPairMs)}× cold, ${fmtRatio(s.referencePerPairMs / s.warmPerPairMs)}× warm)`,
          wholeRatio >= TARGETS.speedup,
        )
      : judge(speedupTarget, undefined, undefined, m ? 'step (g) did not finish' : 'size M not run');
  return [
    connectivityVerdict(results.M, 'M', TARGETS.connectivityM),
    loadVerdict(m),
    commandsVerdict(m),
    commandsVerdict(results.L),
    lintVerdict(m),
    connectivityVerdict(results.L, 'L', TARGETS.connectivityL),
    incremental,
    speedup,
    judge(
      `\`phiwall --version\` cold start ≤ ${TARGETS.versionMs} ms (median of 5)`,
      version ? (version.error ?? fmtMs(version.medianMs)) : undefined,
      version ? version.medianMs <= TARGETS.versionMs : undefined,
    ),
  ];
}

/**
 * RESULTS.md carries each section's raw result in an HTML comment, so a run of one size can keep the
 * other sizes' sections even on a fresh clone, where bench/.data is empty.
 */
const SAVED = /<!-- bench-result (\{.*\}) -->/g;

interface Saved {
  sizes: Partial<Record<Size, SizeResult>>;
  version?: VersionResult;
  series: Map<string, SeriesResult>;
}

function savedResults(): Saved {
  const saved: Saved = { sizes: {}, series: new Map() };
  if (!existsSync(RESULTS_MD)) return saved;
  for (const [, json] of readFileSync(RESULTS_MD, 'utf8').matchAll(SAVED)) {
    const value = JSON.parse(json as string) as
      | SizeResult
      | SeriesResult
      | (VersionResult & { size?: undefined });
    if ('points' in value) saved.series.set(value.id, value);
    else if (value.size === undefined) saved.version = value as VersionResult;
    else saved.sizes[value.size] = value as SizeResult;
  }
  return saved;
}

function embed(value: SizeResult | VersionResult | SeriesResult): string {
  // `>` escaped so no note can close the comment early.
  return `<!-- bench-result ${JSON.stringify(value).replaceAll('>', '\\u003e')} -->`;
}

function seriesTarget(result: SeriesResult): Verdict {
  const { measured, met } = seriesVerdict(result);
  return judge(`growth exponent ≤ ${MAX_EXPONENT} (time and RSS): ${result.title}`, measured, met);
}

function writeResultsMd(update: {
  size?: SizeResult;
  version?: VersionResult;
  series?: SeriesResult;
}): string {
  const saved = savedResults();
  const results = { ...saved.sizes, ...(update.size ? { [update.size.size]: update.size } : {}) };
  const version = update.version ?? saved.version;
  if (update.series) saved.series.set(update.series.id, update.series);
  // In the order the benchmark defines them, whichever run measured each.
  const series = SERIES.flatMap((spec) => saved.series.get(spec.id) ?? []);
  const targets = [...verdicts(results, version), ...series.map(seriesTarget)];
  const text = [
    '# phiwall benchmark results',
    '',
    'Written by `npm run bench` (see bench/run.ts); a run replaces the sections of the sizes it ran. Each step',
    'runs in its own Node.js process; wall times of (a), (d) and (e) are whole processes, from spawn to exit,',
    'the others are timed inside the process around the library call. Peak RSS is the process’s',
    '`process.resourceUsage().maxRSS` (for in-process steps: at the end of the phase, so it includes loading).',
    '"× floor" divides by the wall time of (a), a bare `node` process that reads and `JSON.parse`s the same file.',
    `A step still running after ${stepTimeoutMinutes()} min is stopped and reported as a timeout.`,
    '',
    '## Machine',
    '',
    ...machine(),
    '',
    '## Targets',
    '',
    '| target | measured | status |',
    '| --- | --- | --- |',
    ...targets.map((v) => `| ${v.target} | ${v.measured} | **${v.status}** |`),
    '',
    version?.error
      ? `\`phiwall --version\` failed: ${version.error}`
      : version
        ? `\`phiwall --version\` cold start: ${fmtMs(version.medianMs)} median of ${version.runsMs.map((ms) => fmtMs(ms)).join(', ')} (${version.date}, commit ${version.commit}).`
        : '`phiwall --version` not measured yet.',
    ...(version ? [embed(version)] : []),
    '',
    ...SIZES.flatMap((size) => {
      const r = results[size];
      return r ? [sizeSection(r), embed(r), ''] : [];
    }),
    ...(series.length
      ? [
          '## Growth series',
          '',
          'Each command on each size in a process of its own, like (d). The growth exponent is the least-squares',
          'slope of log(time) (or log(peak RSS)) over log(size): 1 is linear, 2 quadratic; the target is',
          `≤ ${MAX_EXPONENT}. Peak RSS includes Node's own ~50 MiB, which flatters the memory exponent of small inputs.`,
          'Wall times on this shared machine vary from run to run; compare sizes measured in the same run.',
          '',
          ...series.flatMap((s) => [seriesSection(s), embed(s), '']),
        ]
      : []),
    ...keptSections(),
  ].join('\n');
  // bench/history.ts writes its own section last; a run of this benchmark keeps it.
  const previous = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '';
  const history = previous.indexOf(HISTORY_SECTION);
  const full = history >= 0 ? `${text.trimEnd()}\n\n${previous.slice(history)}` : text;
  writeFileSync(RESULTS_MD, full);
  return full;
}

/**
 * Sections this script does not measure, kept as the last writer left them: the browser measurements
 * (made by the UI's browser test), serve's edit-to-event time (bench/serve-edit.ts) and the profiles
 * that explain the targets a run misses (written by hand, from profiles this script cannot take).
 */
const KEPT_HEADINGS = [
  '## The live view in Chromium',
  '## serve: a policy file edit to the change event',
  '## Profiles of the missed targets',
];

function keptSections(): string[] {
  if (!existsSync(RESULTS_MD)) return [];
  const text = readFileSync(RESULTS_MD, 'utf8');
  return KEPT_HEADINGS.flatMap((heading) => {
    const at = text.indexOf(`\n${heading}`);
    if (at < 0) return [];
    // A kept section ends at the next section heading (bench/history.ts's one is written apart).
    const next = text.indexOf('\n## ', at + 1);
    return [text.slice(at + 1, next < 0 ? undefined : next).trimEnd(), ''];
  });
}

// ---------------------------------------------------------------------------------------------------------

interface Options {
  sizes: Size[];
  runs: number;
  seed: number;
  series: string[];
  small: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', multiple: true },
      series: { type: 'string', multiple: true },
      small: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '15' },
    },
  });
  const list = (given: string[] | undefined, all: string) =>
    (given ?? [all])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '' && s.toLowerCase() !== 'none');
  const sizes = list(values.size, SIZES.join(',')).map((s) => s.toUpperCase());
  for (const s of sizes) {
    if (!SIZES.includes(s as Size)) throw new Error(`--size must be S, M, L or none, not "${s}"`);
  }
  const ids = SERIES.map((s) => s.id);
  const series = list(values.series, ids.join(','));
  for (const s of series) {
    if (!ids.includes(s)) throw new Error(`--series must be among ${ids.join(', ')} or none, not "${s}"`);
  }
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) throw new Error('--timeout must be a positive number of minutes');
  setStepTimeout(timeout);
  return { sizes: SIZES.filter((s) => sizes.includes(s)), runs, seed, series, small: values.small };
}

async function main(): Promise<void> {
  const { sizes, runs, seed, series, small } = parseOptions();
  await buildAll();
  const version = await measureVersion();
  writeResultsMd({ version });
  process.stdout.write(
    version.error
      ? `phiwall --version failed: ${version.error}\n\n`
      : `phiwall --version cold start: ${fmtMs(version.medianMs)} (median of 5)\n\n`,
  );
  let text = '';
  for (const size of sizes) {
    const result = await measureSize(size, seed, runs);
    process.stdout.write(`${sizeSection(result)}\n\n`);
    // Written after every size, so an interrupted run keeps what it measured.
    text = writeResultsMd({ size: result });
  }
  for (const spec of SERIES.filter((s) => series.includes(s.id))) {
    const result = await measureSeries(spec, {
      runs,
      small,
      commit: commitDescription(),
      machine: machineSummary(),
    });
    process.stdout.write(`${seriesSection(result)}\n\n`);
    text = writeResultsMd({ series: result });
  }
  const sizesAt = text.indexOf('\n## Size');
  process.stdout.write(`${text.slice(text.indexOf('## Targets'), sizesAt < 0 ? undefined : sizesAt)}\n`);
  process.stderr.write(`written ${RESULTS_MD.slice(ROOT.length)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
