import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runPhiwall } from '../testing/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLINIC = join(ROOT, 'examples', 'clinic');
const HIPAA = join(ROOT, 'examples', 'hipaa-clinic');
const STACK_FRAME = /^\s+at .+:\d+:\d+/m;
/** Fixed, so that a failure is reproduced by running the suite again; FUZZ_SEED explores others. */
const SEED = Number(process.env.FUZZ_SEED ?? 1414);
const RUNS = 120;

const work = mkdtempSync(join(tmpdir(), 'phiwall-fuzz-'));
after(() => rmSync(work, { recursive: true, force: true }));

const read = (...path: string[]) => readFileSync(join(ROOT, ...path), 'utf8');
const MANIFESTS = ['namespaces.yaml', 'policies.yaml', 'workloads.yaml'].map((f) =>
  read('examples', 'clinic', f),
);
const HUBBLE_LINE = JSON.stringify({
  flow: {
    time: '2026-11-26T08:00:04Z',
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2' },
    l4: { TCP: { source_port: 40000, destination_port: 8443 } },
    source: { namespace: 'frontend', pod_name: 'portal-1' },
    destination: { namespace: 'records', pod_name: 'api-1' },
  },
});

/** Pieces that matter to YAML, JSON and CSV parsers: structure, anchors, tags, quotes, deep nesting. */
const TOKENS = [
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '\\',
  '#',
  '&a ',
  '*a',
  '*undefined',
  '!!binary ',
  '!custom ',
  '---\n',
  '...\n',
  '\t',
  '\n',
  '\n  ',
  'null',
  '~',
  '0x1F',
  '1e400',
  '-1',
  '65536',
  'yes',
  '\u0000',
  '\uFEFF',
  '\u2028',
  '%YAML 1.2\n',
  '<<: *a\n',
  '['.repeat(2000),
  '{"a":'.repeat(200),
];

/** A text with random damage: pieces cut out, tokens put in, lines repeated, the end cut off. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 40 }),
    }),
    fc.record({
      kind: fc.constant('repeat' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 80 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('garbage' as const), at: fc.nat(), text: fc.string({ maxLength: 12 }) }),
  );
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 6 })).map(([text, edits]) => {
    let out = text;
    for (const e of edits) {
      const at = out.length === 0 ? 0 : e.at % out.length;
      if (e.kind === 'insert') out = out.slice(0, at) + e.token + out.slice(at);
      else if (e.kind === 'delete') out = out.slice(0, at) + out.slice(at + e.length);
      else if (e.kind === 'repeat') out = out.slice(0, at + e.length) + out.slice(at);
      else if (e.kind === 'truncate') out = out.slice(0, at);
      else out = out.slice(0, at) + e.text + out.slice(at);
    }
    return out;
  });
}

/**
 * One run of a command on a damaged input: it either accepts it or reports bad input (2), never a bug
 * (3) or a stack trace; a YAML or JSON syntax error in the damaged file names a line and column.
 */
async function assertHandled(args: string[], damaged: string, stdin?: string): Promise<void> {
  const run = await runPhiwall(args, { stdin });
  const context = `phiwall ${args.join(' ')}\n--- input ---\n${(stdin ?? readFileSync(damaged, 'utf8')).slice(0, 2000)}\n--- stderr ---\n${run.stderr}`;
  assert.ok([0, 1, 2].includes(run.code), `exit ${run.code}: ${context}`);
  assert.doesNotMatch(run.stderr, STACK_FRAME, context);
  assert.doesNotMatch(run.stderr, /internal error/, context);
  const name = stdin === undefined ? damaged : '<stdin>';
  for (const line of run.stderr.split('\n')) {
    if (line.startsWith(`${name}:`) && /invalid YAML/.test(line))
      assert.match(line, new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `), context);
  }
}

const opts = { seed: SEED, numRuns: RUNS, endOnFailure: true };

test('damaged manifests (YAML and JSON) exit 0, 1 or 2, never 3, never a stack trace', {
  timeout: 60_000,
}, async () => {
  const yamlInputs = mutated(fc.constantFrom(...MANIFESTS));
  await fc.assert(
    fc.asyncProperty(yamlInputs, async (text) => assertHandled(['connectivity', '-'], '<stdin>', text)),
    opts,
  );
  const json = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } } },
    ],
  });
  const file = join(work, 'dump.json');
  await fc.assert(
    fc.asyncProperty(mutated(fc.constant(json)), async (text) => {
      writeFileSync(file, text);
      await assertHandled(['connectivity', file], file);
    }),
    opts,
  );
});

test('damaged tests files and configs exit 0, 1 or 2, never 3, never a stack trace', {
  timeout: 60_000,
}, async () => {
  const tests = join(work, 'tests.yaml');
  await fc.assert(
    fc.asyncProperty(mutated(fc.constant(read('examples', 'clinic-tests.yaml'))), async (text) => {
      writeFileSync(tests, text);
      await assertHandled(['test', CLINIC, '--tests', tests], tests);
    }),
    opts,
  );
  const config = join(work, 'phiwall.yaml');
  await fc.assert(
    fc.asyncProperty(mutated(fc.constant(read('examples', 'hipaa-clinic', 'phiwall.yaml'))), async (text) => {
      writeFileSync(config, text);
      await assertHandled(['audit', join(HIPAA, 'secure'), '--config', config, '--fail-on', 'never'], config);
    }),
    opts,
  );
});

test('damaged flow lines (Hubble, CSV) exit 0, 1 or 2, never 3, never a stack trace', {
  timeout: 60_000,
}, async () => {
  const hubble = join(work, 'flows.jsonl');
  const lines = fc.array(mutated(fc.constant(HUBBLE_LINE)), { minLength: 1, maxLength: 4 });
  await fc.assert(
    fc.asyncProperty(lines, async (damaged) => {
      // The first record stays whole so that the file is still recognised as a Hubble log.
      writeFileSync(hubble, [HUBBLE_LINE, ...damaged].join('\n'));
      await assertHandled(['flows', hubble, CLINIC], hubble);
    }),
    opts,
  );
  const csv = join(work, 'flows.csv');
  const [header = '', ...rows] = read('examples', 'hipaa-clinic', 'flows.csv').split('\n');
  await fc.assert(
    fc.asyncProperty(mutated(fc.constant(rows.slice(0, 6).join('\n'))), async (text) => {
      writeFileSync(csv, `${header}\n${text}`);
      await assertHandled(['flows', csv, join(HIPAA, 'secure')], csv);
    }),
    opts,
  );
});
