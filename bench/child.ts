/**
 * Running benchmark children and turning their runs into table rows, shared by the size steps
 * (bench/run.ts) and the growth series (bench/series.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StepResult } from './step.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH = join(ROOT, 'bench');
export const DATA = join(BENCH, '.data');
export const PRELOAD = join(BENCH, 'rss-preload.mjs');
export const BIN = join(ROOT, 'bin', 'phiwall');
/** The CLI with its peak RSS reported: `node ...CLI command args`. */
export const CLI = ['--import', PRELOAD, BIN];
// L needs more than Node's default heap limit; every child gets the same limit so they compare fairly.
export const NODE_FLAGS = ['--max-old-space-size=8192'];
let stepTimeoutMs = 15 * 60 * 1000;

export function setStepTimeout(minutes: number): void {
  stepTimeoutMs = minutes * 60_000;
}

export function stepTimeoutMinutes(): number {
  return stepTimeoutMs / 60_000;
}

export const KIB_PER_GIB = 1024 * 1024;

export type Status = 'ok' | 'timeout' | 'error' | 'n/a';

export interface Row {
  key: string;
  step: string;
  status: Status;
  wallMs?: number;
  /** KiB, as process.resourceUsage() reports it. */
  maxRSS?: number;
  note: string;
}

export interface ChildRun {
  wallMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  report?: StepResult;
  stderr: string;
}

let childCount = 0;

/** Runs `node NODE_FLAGS ...args` with stdout discarded, timing the whole process from spawn to exit. */
export function runChild(args: readonly string[], label: string): Promise<ChildRun> {
  const out = join(DATA, `child-${process.pid}-${childCount++}.json`);
  rmSync(out, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, PHIWALL_BENCH_OUT: out };
  // A loader or heap flag inherited from the caller's shell would change what is measured.
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [...NODE_FLAGS, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`  ${label}: still running after ${stepTimeoutMs / 60_000} min, stopping it\n`);
      child.kill('SIGKILL');
    }, stepTimeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    let wallMs = 0;
    child.on('exit', () => {
      wallMs = performance.now() - start;
    });
    // 'close' comes after 'exit' and after stderr has drained, so the message tail is complete.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let report: StepResult | undefined;
      if (existsSync(out)) {
        report = JSON.parse(readFileSync(out, 'utf8')) as StepResult;
        rmSync(out, { force: true });
      }
      resolve({ wallMs, code, signal, timedOut, report, stderr });
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs one child `runs` times; times are medians, memory the worst seen. */
export async function repeat(runs: number, args: readonly string[], label: string): Promise<ChildRun[]> {
  const results: ChildRun[] = [];
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`  ${label}${runs > 1 ? ` (run ${i + 1}/${runs})` : ''} …\n`);
    const run = await runChild(args, label);
    results.push(run);
    // A step that failed or timed out will do so again; repeating it only burns time.
    if (run.timedOut || (run.code !== 0 && run.code !== 1)) break;
  }
  return results;
}

export function failure(run: ChildRun): string {
  if (run.timedOut) return `timed out after ${stepTimeoutMs / 60_000} min`;
  const tail = run.stderr.trim().split('\n').slice(-3).join(' / ');
  return `exit ${run.code ?? run.signal}${tail ? `: ${tail.slice(0, 300)}` : ''}`;
}

/** A row for a whole-process step (the floor and the CLI): wall time from spawn to exit. */
export function processRow(
  key: string,
  step: string,
  runs: ChildRun[],
  okCodes: readonly number[],
  note = '',
): Row {
  const ok = runs.filter((r) => !r.timedOut && r.code !== null && okCodes.includes(r.code));
  if (ok.length < runs.length || ok.length === 0) {
    const bad = runs.find((r) => !ok.includes(r)) as ChildRun;
    return { key, step, status: bad.timedOut ? 'timeout' : 'error', note: failure(bad) };
  }
  const rss = ok.map((r) => r.report?.maxRSS).filter((v): v is number => v !== undefined);
  return {
    key,
    step,
    status: 'ok',
    wallMs: median(ok.map((r) => r.wallMs)),
    ...(rss.length ? { maxRSS: Math.max(...rss) } : {}),
    note,
  };
}

/** A row for one in-process phase of a library step: the phase's own time, the process's peak RSS at its end. */
export function phaseRow(key: string, step: string, runs: ChildRun[], phase: string, note = ''): Row {
  const done = runs.flatMap((r) => r.report?.phases.filter((p) => p.name === phase) ?? []);
  if (done.length === 0) {
    const last = runs[runs.length - 1] as ChildRun;
    const status: Status = last.timedOut ? 'timeout' : 'error';
    return { key, step, status, note: last.code === 0 ? 'phase did not run' : failure(last) };
  }
  const phaseNote = done[done.length - 1]?.note;
  return {
    key,
    step,
    status: 'ok',
    wallMs: median(done.map((p) => p.ms)),
    maxRSS: Math.max(...done.map((p) => p.maxRSS)),
    note: [phaseNote, note].filter(Boolean).join('; '),
  };
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

export function fmtKiB(kib: number | undefined): string {
  if (kib === undefined) return '–';
  return kib >= KIB_PER_GIB ? `${(kib / KIB_PER_GIB).toFixed(2)} GiB` : `${(kib / 1024).toFixed(0)} MiB`;
}

export function fmtRatio(r: number): string {
  if (r < 0.01) return '<0.01';
  return r >= 100 ? r.toFixed(0) : r.toFixed(r >= 10 ? 1 : 2);
}
