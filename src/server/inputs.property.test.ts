import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadAuditConfig } from '../compliance/config.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { InputError } from '../load/diagnostics.ts';
import type { Snapshot } from '../model/types.ts';
import { Analysis, Cancelled, type Published, type StateOptions } from './analysis.ts';
import { InputLoader, type InputSpec, loadInput } from './inputs.ts';

const EXAMPLE = 'examples/hipaa-clinic/insecure';
const NAMESPACES = ['records', 'portal', 'ehr', 'analytics', 'billing', 'monitoring', 'nowhere'];
const APPS = ['records-db', 'patient-portal', 'ehr-api', 'reports', 'invoicing', 'prometheus', 'gone'];
const CIDRS = ['10.0.0.0/24', '10.0.0.5/32', '0.0.0.0/0', '203.0.113.0/24'];

const selectorArb = fc.oneof(
  fc.constant({}),
  fc.constantFrom(...APPS).map((app) => ({ matchLabels: { app } })),
);
const peerArb = fc.oneof(
  selectorArb.map((podSelector) => ({ podSelector })),
  fc
    .constantFrom(...NAMESPACES)
    .map((name) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } })),
  fc.constantFrom(...CIDRS).map((cidr) => ({ ipBlock: { cidr } })),
);
const portArb = fc.oneof(
  fc.constantFrom(5432, 443, 8080).map((port) => ({ protocol: 'TCP', port })),
  fc.constantFrom('http', 'postgres').map((port) => ({ protocol: 'TCP', port })),
);
const ruleArb = (peers: 'from' | 'to') =>
  fc.record(
    {
      [peers]: fc.array(peerArb, { minLength: 1, maxLength: 2 }),
      ports: fc.array(portArb, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );
const policyArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  podSelector: selectorArb,
  types: fc.subarray(['Ingress', 'Egress'], { minLength: 1 }),
  ingress: fc.array(ruleArb('from'), { maxLength: 2 }),
  egress: fc.array(ruleArb('to'), { maxLength: 2 }),
});
/** A policy as the tests write it: the spec's fields, with policyTypes as `types`. */
interface PolicyDraft {
  namespace: string;
  podSelector: unknown;
  types: string[];
  ingress: unknown[];
  egress: unknown[];
}

function manifest(name: string, { namespace, podSelector, types, ingress, egress }: PolicyDraft): string {
  return stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: { podSelector, policyTypes: types, ingress, egress },
  });
}

/** What an edit writes into a policy file: a policy (its name drawn from few, so that some collide), or something else. */
const contentArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.nat(5), policyArb).map(([n, p]) => manifest(`np${n}`, p)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'kind: [unclosed\n',
      stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'extra', namespace: 'ehr' } }),
      stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } }),
      '# nothing here\n',
    ),
  },
);
const editArb = fc.record({ file: fc.nat(5), content: fc.option(contentArb, { nil: undefined }) });

const options: StateOptions = {
  config: loadAuditConfig(`${EXAMPLE}/../phiwall.yaml`).config,
  engineOptions: DEFAULT_OPTIONS,
  source: { kind: 'files', label: 'test' },
};

/** What a generation publishes that the browser reads: the graph and the findings. */
function comparable(published: Published): string {
  return `${published.graph}\n${published.findings}`;
}

/** Equal texts; else where they part (a deepEqual of two graphs spends minutes writing its diff). */
function assertSame(actual: string, expected: string): void {
  if (actual === expected) return;
  let at = 0;
  while (actual[at] === expected[at]) at++;
  assert.fail(
    `differ at ${at}:\n  ${actual.slice(at - 200, at + 200)}\n  ${expected.slice(at - 200, at + 200)}`,
  );
}

function attempt<T>(load: () => T): T | InputError {
  try {
    return load();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
}

test('a generation loaded and analysed incrementally equals one from scratch, for random policy file edits', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(5), policyArb), { minLength: 1, maxLength: 4 }),
      fc.array(editArb, { minLength: 1, maxLength: 4 }),
      async (initial, edits) => {
        const dir = mkdtempSync(join(tmpdir(), 'phiwall-inputs-'));
        try {
          mkdirSync(join(dir, 'cluster'));
          mkdirSync(join(dir, 'policies'));
          for (const file of ['00-namespaces.yaml', '10-workloads.yaml', '20-services.yaml'])
            copyFileSync(join(EXAMPLE, file), join(dir, 'cluster', file));
          const names = new Set<string>();
          initial.forEach(([n, policy], i) => {
            const name = names.has(`${policy.namespace}/np${n}`) ? `first${i}` : `np${n}`;
            names.add(`${policy.namespace}/${name}`);
            writeFileSync(join(dir, 'policies', `p${i}.yaml`), manifest(name, policy));
          });
          // Files from before the server started: their stat alone says they are unchanged.
          const old = new Date(Date.now() - 3_600_000);
          for (const i of initial.keys()) utimesSync(join(dir, 'policies', `p${i}.yaml`), old, old);
          const input: InputSpec = { kind: 'files', paths: [join(dir, 'cluster'), join(dir, 'policies')] };
          const loader = new InputLoader();
          const analysis = await Analysis.create(loader.load(input), options);
          for (const [step, { file, content }] of edits.entries()) {
            const path = join(dir, 'policies', `p${file}.yaml`);
            if (content === undefined) rmSync(path, { force: true });
            else writeFileSync(path, content);
            const fresh: Snapshot | InputError = attempt((): Snapshot => loadInput(input));
            const next: Snapshot | InputError = attempt((): Snapshot => loader.load(input));
            if (fresh instanceof InputError) {
              assert.ok(next instanceof InputError);
              assert.deepEqual(next.diagnostics, fresh.diagnostics);
              continue;
            }
            assert.ok(!(next instanceof InputError), String(next));
            await analysis.advance(next, `edit ${step}`, { force: true });
            const scratch = await Analysis.create(fresh, options, { generation: analysis.view.generation });
            assertSame(comparable(analysis.published()), comparable(scratch.published()));
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('a policy step stopped at a checkpoint leaves the served generation answering as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-inputs-'));
  try {
    copyFileSync(join(EXAMPLE, '10-workloads.yaml'), join(dir, 'workloads.yaml'));
    copyFileSync(join(EXAMPLE, '00-namespaces.yaml'), join(dir, 'namespaces.yaml'));
    const policy = join(dir, 'policy.yaml');
    const deny: PolicyDraft = {
      namespace: 'records',
      podSelector: {},
      types: ['Ingress'],
      ingress: [],
      egress: [],
    };
    writeFileSync(policy, manifest('deny', deny));
    const input: InputSpec = { kind: 'files', paths: [dir] };
    const loader = new InputLoader();
    const analysis = await Analysis.create(loader.load(input), options);
    const served = comparable(analysis.published());
    const workload = 'records/records-db[StatefulSet]';
    const details = JSON.stringify(analysis.workload(workload));
    writeFileSync(policy, manifest('deny', { ...deny, ingress: [{ from: [{ namespaceSelector: {} }] }] }));
    const next = loader.load(input);
    // Every checkpoint of the step, in turn, is where a newer change stops it.
    for (let stopAt = 1; ; stopAt++) {
      let calls = 0;
      const checkpoint = () => {
        if (++calls === stopAt) throw new Cancelled();
      };
      const event = await analysis.advance(next, 'edit', {}, checkpoint).catch((error: unknown) => {
        assert.ok(error instanceof Cancelled);
        return 'stopped' as const;
      });
      if (event !== 'stopped') {
        assert.ok(event && event.added.length > 0, 'the edit opens records-db to every namespace');
        break;
      }
      assertSame(comparable(analysis.published()), served);
      assert.equal(JSON.stringify(analysis.workload(workload)), details);
    }
    const scratch = await Analysis.create(loadInput(input), options, { generation: 2 });
    assertSame(comparable(analysis.published()), comparable(scratch.published()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
