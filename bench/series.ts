/**
 * Growth series: one input shape at doubling sizes, each command run on each size in a process of its
 * own, and the growth exponent of time and of peak RSS (the least-squares slope of log value over log
 * size: 1 is linear, 2 quadratic). Run by bench/run.ts (`--series`), reported in bench/RESULTS.md.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, DATA, fmtKiB, fmtMs, processRow, type Row, repeat } from './child.ts';
import { writeFlowLog } from './flows.ts';
import { ipBlockCluster, namespaceScaleCluster, podManifest } from './shapes.ts';

interface SeriesCommand {
  key: string;
  /** The command line after `phiwall`, for the table's heading (FILE stands for the input). */
  title: string;
  args(files: readonly string[]): string[];
  /** Exit codes that mean the command did its job on this input. */
  okCodes: readonly number[];
}

interface SeriesSpec {
  id: string;
  title: string;
  /** What the size counts. */
  unit: string;
  sizes: readonly number[];
  /** The sizes of a quick run (`--small`), enough for a slope. */
  small: readonly number[];
  /** The input files of one size, written when missing. */
  input(n: number): string[];
  commands: readonly SeriesCommand[];
  /** What profiling this shape found, shown under its table. */
  note: string;
}

export interface SeriesResult {
  id: string;
  title: string;
  unit: string;
  date: string;
  commit: string;
  machine: string;
  commands: { key: string; title: string }[];
  points: { n: number; rows: Row[] }[];
  /** Per command: the growth exponents of time and of peak RSS over the sizes that completed. */
  exponents: Record<string, { time?: number; rss?: number }>;
}

/** The target of issue 21: both growth series and the large load grow no faster than this. */
export const MAX_EXPONENT = 1.2;

const json = ['--format', 'json'];

const FLOWS_DIR = join(DATA, 'flows');

export const SERIES: readonly SeriesSpec[] = [
  {
    id: 'ipblocks',
    title: 'ipBlock-heavy policies: N policies × 40 ipBlocks (ingress and egress) × 10 excepts each',
    unit: 'policies',
    sizes: [25, 50, 100, 200],
    small: [25, 50],
    input: (n) => [ipBlockCluster(n)],
    note:
      'Profiled (issue 21): audit was cubic in the rules on one subject. Rule hygiene asked every other rule ' +
      'at every block edge whether it covered a rule (newExternal), and rebuilt every rule’s addresses from its ' +
      'ipBlocks for every rule and subject; Engine.externalPorts asked every grant at every edge too ' +
      '(partitionByPorts). Now one sweep cuts a side’s grants once (sweepPorts, ExternalCover) and each ' +
      'rule’s addresses are built once. Before, on this shape: audit 4.2 s / 11.6 s / 56 s at 25 / 50 / 100.',
    commands: [
      {
        key: 'audit',
        title: 'audit FILE --format json',
        args: ([file]) => ['audit', file as string, ...json, '--fail-on', 'never'],
        okCodes: [0],
      },
      {
        key: 'connectivity',
        title: 'connectivity FILE --format json',
        args: ([file]) => ['connectivity', file as string, ...json],
        okCodes: [0],
      },
    ],
  },
  {
    id: 'namespaces',
    title: 'one namespace per tenant, each a workload and a `namespaceSelector: {}` policy',
    unit: 'namespaces',
    sizes: [625, 1250, 2500, 5000],
    small: [625, 1250],
    input: (n) => [namespaceScaleCluster(n)],
    note:
      'Profiled (issue 21): `--group-by class` was quadratic three times over: it walked every allowed class ' +
      'pair (every tenant admits every other) and unioned it into its group pair, each class’s behaviour key ' +
      'listed every rule admitting it and spelled every rule’s peer ids, and the ingress admission index ' +
      'listed every rule’s subjects for every source. Now one class pair answers for each pair of groups and ' +
      'keys are built per shared peer set. Before: 1.75 s / 3.82 s / 7.46 s / 39.6 s and 1.84 GB at 5,000.',
    commands: [
      {
        key: 'group-by-class',
        title: 'connectivity FILE --group-by class --format json',
        args: ([file]) => ['connectivity', file as string, '--group-by', 'class', ...json],
        okCodes: [0],
      },
      {
        key: 'lint',
        title: 'lint FILE --format json',
        args: ([file]) => ['lint', file as string, ...json],
        okCodes: [0, 1],
      },
    ],
  },
  {
    id: 'pods',
    title: 'bare Pods as multi-document YAML (~250 bytes each), the last document a YAML syntax error',
    unit: 'pods',
    sizes: [31_250, 62_500, 125_000, 250_000],
    small: [31_250, 62_500],
    input: (n) => [podManifest(n, true)],
    note:
      'Profiled (issue 21): every YAML document’s syntax tree was kept alive for locate(), tens of times the ' +
      'text (2.7 GB and still loading after 120 s at 250,000 pods). Now the stream is parsed one document at ' +
      'a time, only values and source ranges are kept, and the one document a position is asked of is parsed ' +
      'again. The time left is the yaml library’s parser, linear; the syntax error stops the run after ' +
      'loading, before any analysis. Before: 484 MiB / 872 MiB at 31,250 / 62,500 pods.',
    commands: [
      {
        key: 'load-broken',
        title: 'connectivity FILE (exit 2: the syntax error, nothing analysed)',
        args: ([file]) => ['connectivity', file as string, ...json],
        okCodes: [2],
      },
    ],
  },
  {
    id: 'flows',
    title: 'Hubble flow logs (bench/flows.ts: verdicts at both ends, traces, replies) over 40 workloads',
    unit: 'records',
    sizes: [125_000, 250_000, 500_000, 1_000_000],
    small: [125_000, 250_000],
    note: 'Linear before this issue; unchanged.',
    input: (n) => {
      const files = writeFlowLog(n, FLOWS_DIR);
      return [files.log, files.cluster];
    },
    commands: [
      {
        key: 'flows',
        title: 'flows LOG CLUSTER -f json',
        args: ([log, cluster]) => ['flows', log as string, cluster as string, '-f', 'json'],
        okCodes: [0, 1],
      },
      {
        key: 'generate',
        title: 'generate --from-flows LOG CLUSTER -o DIR',
        args: ([log, cluster]) => {
          const out = join(FLOWS_DIR, 'generated');
          rmSync(out, { recursive: true, force: true });
          return ['generate', '--from-flows', log as string, cluster as string, '-o', out];
        },
        okCodes: [0, 1],
      },
    ],
  },
];

/** The least-squares slope of log y over log x; undefined with fewer than two points. */
export function growthExponent(points: readonly (readonly [number, number])[]): number | undefined {
  if (points.length < 2) return undefined;
  const xs = points.map(([x]) => Math.log(x));
  const ys = points.map(([, y]) => Math.log(y));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(xs), mean(ys)];
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

export async function measureSeries(
  spec: SeriesSpec,
  options: { runs: number; small: boolean; commit: string; machine: string },
): Promise<SeriesResult> {
  mkdirSync(DATA, { recursive: true });
  const points: SeriesResult['points'] = [];
  for (const n of options.small ? spec.small : spec.sizes) {
    process.stderr.write(`series ${spec.id}: ${n} ${spec.unit} …\n`);
    const files = spec.input(n);
    const rows: Row[] = [];
    for (const command of spec.commands) {
      const runs = await repeat(
        options.runs,
        [...CLI, ...command.args(files)],
        `phiwall ${command.key} ×${n}`,
      );
      rows.push(processRow(command.key, command.title, runs, command.okCodes));
    }
    points.push({ n, rows });
  }
  // Flow logs are large and cheap to write again; the cluster shapes are kept for the next run.
  if (spec.id === 'flows' && existsSync(FLOWS_DIR)) rmSync(FLOWS_DIR, { recursive: true, force: true });
  const exponents: SeriesResult['exponents'] = {};
  for (const command of spec.commands) {
    const done = points.flatMap(({ n, rows }) => {
      const row = rows.find((r) => r.key === command.key && r.status === 'ok');
      return row?.wallMs !== undefined && row.maxRSS !== undefined
        ? [{ n, ms: row.wallMs, rss: row.maxRSS }]
        : [];
    });
    exponents[command.key] = {
      time: growthExponent(done.map((p) => [p.n, p.ms])),
      rss: growthExponent(done.map((p) => [p.n, p.rss])),
    };
  }
  return {
    id: spec.id,
    title: spec.title,
    unit: spec.unit,
    date: new Date().toISOString(),
    commit: options.commit,
    machine: options.machine,
    commands: spec.commands.map(({ key, title }) => ({ key, title })),
    points,
    exponents,
  };
}

function fmtExponent(e: number | undefined): string {
  return e === undefined ? '–' : e.toFixed(2);
}

/** One series as a Markdown table: a row per size, a time and an RSS column per command. */
export function seriesSection(result: SeriesResult): string {
  const header = result.commands.flatMap((c) => [`\`${c.title}\` time`, 'peak RSS']);
  const lines = [
    `### ${result.title}`,
    '',
    `${result.date}, commit ${result.commit}; ${result.machine}.`,
    '',
    `| ${result.unit} | ${header.join(' | ')} |`,
    `| ---: | ${header.map(() => '---:').join(' | ')} |`,
  ];
  for (const { n, rows } of result.points) {
    const cells = result.commands.flatMap((c) => {
      const row = rows.find((r) => r.key === c.key);
      if (!row) return ['–', '–'];
      if (row.status !== 'ok')
        return [`${row.status}: ${row.note.replaceAll('|', '\\|').slice(0, 120)}`, '–'];
      return [fmtMs(row.wallMs), fmtKiB(row.maxRSS)];
    });
    lines.push(`| ${n.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  }
  const exponents = result.commands.flatMap((c) => [
    `**${fmtExponent(result.exponents[c.key]?.time)}**`,
    `**${fmtExponent(result.exponents[c.key]?.rss)}**`,
  ]);
  lines.push(`| growth exponent | ${exponents.join(' | ')} |`);
  // The note comes from the current spec: it describes the code, so sections kept from earlier runs show it too.
  const note = SERIES.find((s) => s.id === result.id)?.note;
  if (note) lines.push('', note);
  return lines.join('\n');
}

/** Whether every exponent of the series is within the target, for the targets table. */
export function seriesVerdict(result: SeriesResult): { measured: string; met: boolean } {
  const parts = result.commands.map((c) => {
    const e = result.exponents[c.key] ?? {};
    return { key: c.key, time: e.time, rss: e.rss };
  });
  const measured = parts
    .map((p) => `${p.key}: time ${fmtExponent(p.time)}, RSS ${fmtExponent(p.rss)}`)
    .join('; ');
  const met = parts.every(
    (p) => p.time !== undefined && p.rss !== undefined && p.time <= MAX_EXPONENT && p.rss <= MAX_EXPONENT,
  );
  return { measured, met };
}
