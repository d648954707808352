/**
 * One library-level benchmark step, run by bench/run.ts in a process of its own (bundled to plain
 * JavaScript first, so no TypeScript loader sits in the measured process and its memory).
 *
 *   node bench/.data/step.mjs load|engine|incremental|reference|explain CLUSTER_FILE [--seed N]
 *
 * Results go, as JSON, to the file named by PHIWALL_BENCH_OUT. Steps that can run long write what they
 * have after every phase: when the runner kills a step at its time limit, the phases that finished still
 * count.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  computeConnectivity,
  contains,
  DEFAULT_OPTIONS,
  Engine,
  explainConnection,
  explanationJson,
  loadSnapshot,
  type NetworkPolicy,
  type Pod,
  type PodClass,
  type PolicyRule,
  type Protocol,
  referenceAllows,
  resolveEndpoint,
  type Snapshot,
} from '../src/index.ts';
import { Random } from './random.ts';

/** What a step reports: timed phases in order, and facts about the input. */
export interface StepResult {
  phases: { name: string; ms: number; maxRSS: number; note?: string }[];
  info: Record<string, number | string | boolean>;
  maxRSS: number;
}

/** The question set asked of every sampled pair: common service ports, DNS, a port nothing names, and 9000 (`grpc`, a named port). */
export const QUESTIONS: readonly (readonly [Protocol, number])[] = [
  ['TCP', 53],
  ['TCP', 80],
  ['TCP', 443],
  ['TCP', 5432],
  ['TCP', 6379],
  ['TCP', 8080],
  ['TCP', 8443],
  ['TCP', 9000],
  ['TCP', 9090],
  ['UDP', 53],
  ['SCTP', 9999],
];

export const SAMPLE_PAIRS = 1_000;

type ReplacePolicy = (
  before: NetworkPolicy | undefined,
  after: NetworkPolicy | undefined,
) => { changed: Array<{ src: PodClass; dst: PodClass }>; rebuild?: boolean };

const result: StepResult = { phases: [], info: {}, maxRSS: 0 };

function maxRSS(): number {
  return process.resourceUsage().maxRSS;
}

function save(): void {
  result.maxRSS = maxRSS();
  const out = process.env.PHIWALL_BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(result));
}

function timed<T>(name: string, run: () => T, note?: (value: T) => string): T {
  const start = performance.now();
  const value = run();
  const ms = performance.now() - start;
  result.phases.push({ name, ms, maxRSS: maxRSS(), ...(note ? { note: note(value) } : {}) });
  save();
  return value;
}

function describe(snapshot: Snapshot): void {
  Object.assign(result.info, {
    namespaces: snapshot.namespaces.size,
    pods: snapshot.pods.length,
    workloads: snapshot.workloads.length,
    policies: snapshot.policies.length,
  });
}

function stepLoad(file: string): void {
  const snapshot = timed('load', () => loadSnapshot([file]));
  describe(snapshot);
  save();
}

function stepEngine(file: string): void {
  const snapshot = loadSnapshot([file]);
  describe(snapshot);
  const engine = timed('engine', () => new Engine(snapshot));
  result.info.classes = engine.classes.length;
  save();
  const connections = timed('connectivity', () => computeConnectivity(engine));
  result.info.connections = connections.length;
  save();
}

/** Allow policies whose first ingress rule names peers and ports, in a seeded random order. */
function pickPolicies(snapshot: Snapshot, rng: Random, n: number): NetworkPolicy[] {
  const candidates = snapshot.policies.filter(
    (p) =>
      p.name.endsWith('-netpol') &&
      p.ingress.length > 0 &&
      p.ingress[0]?.peers !== undefined &&
      p.ingress[0]?.ports !== undefined,
  );
  if (candidates.length === 0) throw new Error('no allow policy to change');
  return rng.sample(candidates, n);
}

function withFirstIngressRule(
  policy: NetworkPolicy,
  change: (rule: PolicyRule) => PolicyRule,
): NetworkPolicy {
  return { ...policy, ingress: policy.ingress.map((rule, i) => (i === 0 ? change(rule) : rule)) };
}

/** How many policies the incremental step changes: one change's cost depends on how many classes it touches. */
const CHANGED_POLICIES = 20;

function stepIncremental(file: string, seed: number): void {
  // Looked up at run time: the method is being written while this benchmark is, and a missing one is
  // a row to report, not a crash.
  const replace = (Engine.prototype as unknown as { replacePolicy?: ReplacePolicy }).replacePolicy;
  if (typeof replace !== 'function') {
    result.info.missing = 'Engine.replacePolicy';
    save();
    return;
  }
  const snapshot = loadSnapshot([file]);
  describe(snapshot);
  const engine = new Engine(snapshot);
  computeConnectivity(engine);
  const calls: { ms: number; changed: number; rebuild: boolean; policy: string }[] = [];
  const change = (before: NetworkPolicy, after: NetworkPolicy) => {
    const start = performance.now();
    const r = replace.call(engine, before, after);
    const ms = performance.now() - start;
    const call = {
      ms,
      changed: r.changed.length,
      rebuild: r.rebuild === true,
      policy: `${before.namespace}/${before.name}`,
    };
    calls.push(call);
    return call;
  };
  const note = (c: (typeof calls)[number]) =>
    `${c.changed} class pairs changed${c.rebuild ? ', engine asked for a rebuild' : ''}; policy ${c.policy}`;
  for (const [i, before] of pickPolicies(snapshot, new Random(seed), CHANGED_POLICIES).entries()) {
    const portChanged = withFirstIngressRule(before, (rule) => ({
      ...rule,
      ports: [...(rule.ports ?? []), { protocol: 'TCP', port: 15_000 }],
    }));
    // Admits every pod of the namespace's worker tier instead of the named callers.
    const peerChanged = withFirstIngressRule(portChanged, (rule) => ({
      ...rule,
      peers: [{ kind: 'pods', podSelector: { matchLabels: { tier: 'worker' }, matchExpressions: [] } }],
    }));
    const port = change(before, portChanged);
    const peer = change(portChanged, peerChanged);
    // Back to the input, so every policy's change starts from the cluster as loaded.
    change(peerChanged, before);
    if (i === 0) {
      result.phases.push({ name: 'replace-port', ms: port.ms, maxRSS: maxRSS(), note: note(port) });
      result.phases.push({ name: 'replace-peer', ms: peer.ms, maxRSS: maxRSS(), note: note(peer) });
      save();
    }
  }
  const sorted = [...calls].sort((a, b) => a.ms - b.ms);
  const slowest = sorted[sorted.length - 1] as (typeof calls)[number];
  const medianCall = sorted[sorted.length >> 1] as (typeof calls)[number];
  result.phases.push({
    name: 'replace-median',
    ms: medianCall.ms,
    maxRSS: maxRSS(),
    note: 'each policy: a port added, then peers replaced, then reverted',
  });
  result.phases.push({ name: 'replace-max', ms: slowest.ms, maxRSS: maxRSS(), note: note(slowest) });
  Object.assign(result.info, {
    rebuilds: calls.filter((c) => c.rebuild).length,
    changes: calls.length,
    changedPolicies: CHANGED_POLICIES,
  });
  save();
}

function samplePairs(pods: readonly Pod[], seed: number): [Pod, Pod][] {
  const rng = new Random(seed);
  return Array.from({ length: SAMPLE_PAIRS }, () => [rng.pick(pods), rng.pick(pods)]);
}

function stepReference(file: string, seed: number): void {
  const snapshot = loadSnapshot([file]);
  describe(snapshot);
  const pairs = samplePairs(snapshot.pods, seed);
  const referenceAnswers = new Uint8Array(pairs.length * QUESTIONS.length);
  timed('reference', () => {
    let i = 0;
    for (const [src, dst] of pairs) {
      for (const [protocol, port] of QUESTIONS) {
        referenceAnswers[i++] = referenceAllows(
          snapshot,
          { pod: src },
          { pod: dst },
          protocol,
          port,
          DEFAULT_OPTIONS,
        )
          ? 1
          : 0;
      }
    }
  });

  const engine = new Engine(snapshot);
  const engineAnswers = new Uint8Array(pairs.length * QUESTIONS.length);
  const ask = () => {
    let i = 0;
    for (const [src, dst] of pairs) {
      const ports = engine.portsBetween(src, dst);
      for (const [protocol, port] of QUESTIONS) engineAnswers[i++] = contains(ports[protocol], port) ? 1 : 0;
    }
  };
  // The first pass builds the rows and columns the sample touches; later passes show the cached cost.
  timed('engine-cold', ask);
  let passes = 0;
  const start = performance.now();
  do {
    ask();
    passes++;
  } while (performance.now() - start < 200);
  result.phases.push({ name: 'engine-warm', ms: (performance.now() - start) / passes, maxRSS: maxRSS() });
  // How many egress rows and ingress columns the cold pass had to build, for run.ts's amortised estimate.
  const srcClasses = new Set(pairs.map(([src]) => engine.classOf(src).id));
  const dstClasses = new Set(pairs.map(([, dst]) => engine.classOf(dst).id));
  let disagreements = 0;
  for (let i = 0; i < engineAnswers.length; i++)
    if (engineAnswers[i] !== referenceAnswers[i]) disagreements++;
  Object.assign(result.info, {
    pairs: pairs.length,
    questions: QUESTIONS.length,
    allowed: referenceAnswers.reduce((a, b) => a + b, 0),
    disagreements,
    classes: engine.classes.length,
    touchedRows: srcClasses.size + dstClasses.size,
  });
  save();
}

/** `phiwall explain` asked of `SAMPLE_PAIRS` random workload pairs on one engine, as a UI or a script would. */
function stepExplain(file: string, seed: number): void {
  const snapshot = loadSnapshot([file]);
  describe(snapshot);
  const engine = new Engine(snapshot);
  const rng = new Random(seed);
  const named = (w: (typeof snapshot.workloads)[number]) => `${w.namespace}/${w.name}[${w.kind}]`;
  const pairs = Array.from({ length: SAMPLE_PAIRS }, () => [
    named(rng.pick(snapshot.workloads)),
    named(rng.pick(snapshot.workloads)),
  ]);
  let allowed = 0;
  timed('explain', () => {
    for (const [from, to] of pairs) {
      const explanation = explainConnection(
        engine,
        resolveEndpoint(snapshot, from as string),
        resolveEndpoint(snapshot, to as string),
        { protocol: 'TCP', port: 8080 },
      );
      // Rendered too, as the command does: the JSON carries the deciding rules' positions.
      if (
        JSON.stringify(explanationJson(explanation)).length > 0 &&
        explanation.groups.some((g) => g.verdict)
      )
        allowed++;
    }
  });
  Object.assign(result.info, { explainPairs: pairs.length, explainAllowed: allowed });
  save();
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { seed: { type: 'string', default: '1' } },
  });
  const [step, file] = positionals;
  if (!file) throw new Error('usage: step load|engine|incremental|reference|explain CLUSTER_FILE [--seed N]');
  const seed = Number(values.seed);
  const steps: Record<string, () => void> = {
    load: () => stepLoad(file),
    engine: () => stepEngine(file),
    incremental: () => stepIncremental(file, seed),
    reference: () => stepReference(file, seed),
    explain: () => stepExplain(file, seed),
  };
  const run = step === undefined ? undefined : steps[step];
  if (!run) throw new Error(`unknown step ${step}`);
  run();
}

main();
