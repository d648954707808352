import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DiffResult, diffConnectivity } from '../analysis/diff.ts';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import { Engine } from '../engine/engine.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import { type DiffReport, diffJson, diffSarif, renderDiff } from './diff.ts';

function scenario(): DiffReport {
  const before = loadSnapshot(['examples/diff-scenario/before']);
  const after = loadSnapshot(['examples/diff-scenario/after']);
  const phi = new Set(phiScope(after, DEFAULT_CONFIG).phi.keys());
  return {
    result: diffConnectivity(new Engine(before), new Engine(after), phi),
    before: 'before',
    after: 'after',
  };
}

const EMPTY: DiffResult = {
  changes: [],
  summary: { added: 0, removed: 0, changed: 0, phi: 0, phiWidening: 0 },
  partial: false,
};

test('md: a pull-request comment with the PHI table first and the evidence folded away', () => {
  const md = renderDiff(scenario(), 'md');
  assert.match(md, /^## phiwall network-policy diff: 1 change adds reachability to PHI$/m);
  assert.match(md, /^\*\*2 connections changed: 1 added, 1 removed, 0 with other ports; 1 touches PHI/m);
  const phi = md.indexOf('### Changes touching PHI');
  const other = md.indexOf('### Other changes');
  const details = md.indexOf('### Policies responsible');
  assert.ok(phi > 0 && phi < other && other < details);
  assert.match(
    md.slice(phi, other),
    /^\| 🔴 \| analytics\/reporting\\\[Deployment\\\] → records\/records-api\\\[Deployment\\\] \| ➕ added \| TCP 8443 \| – \|$/m,
  );
  assert.match(md.slice(other, details), /shop\/web.* \| ➖ removed \(half-open\) \| – \| TCP 8080 \|$/m);
  assert.equal(md.match(/<details>/g)?.length, 2);
  assert.match(
    md,
    /records\/records-api-ingress\\#spec\.ingress\\\[0\\\] \(examples\/diff-scenario\/after\/20-policies\.yaml:\d+\)/,
  );
  assert.match(md, /half-open: egress of shop\/web\\\[Deployment\\\] still allows TCP 8080/);
  for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
    assert.equal(line.split(/(?<!\\)\|/).length, 7, `a row of five cells: ${line}`);
  }
});

test('md and text say so when nothing changed', () => {
  const report = { result: EMPTY, before: 'a', after: 'b' };
  assert.match(renderDiff(report, 'md'), /^## phiwall network-policy diff: no change$/m);
  assert.doesNotMatch(renderDiff(report, 'md'), /<details>/);
  assert.match(renderDiff(report, 'text'), /^No change in allowed connectivity$/m);
});

test('text marks PHI changes and names the rules on both sides', () => {
  const text = renderDiff(scenario(), 'text');
  const lines = text.split('\n');
  assert.match(
    lines[3] ?? '',
    /^\[PHI\+\] analytics\/reporting\[Deployment\] -> records\/records-api\[Deployment\]: added: TCP 8443$/,
  );
  assert.match(
    text,
    /ingress of records\/records-api\[Deployment\]: isolated by records\/default-deny \(examples\/diff-scenario\/before\//,
  );
  assert.match(text, /^shop\/web\[Deployment\] -> shop\/api\[Deployment\]: removed: was TCP 8080$/m);
  assert.match(
    text,
    /admitted by shop\/api-ingress#spec\.ingress\[0\] \(examples\/diff-scenario\/after\/20-policies\.yaml:\d+\): TCP 9090/,
  );
});

test('json carries the structure; sarif has one result per change, PHI widening as an error', () => {
  const report = scenario();
  const json = diffJson(report);
  assert.deepEqual(json.summary, { added: 1, removed: 1, changed: 0, phi: 1, phiWidening: 1 });
  assert.deepEqual(json.changes[0]?.gained, { TCP: [[8443, 8443]] });
  assert.deepEqual(json.changes[1]?.halfOpen, { openSide: 'egress', ports: { TCP: [[8080, 8080]] } });
  assert.deepEqual(JSON.parse(renderDiff(report, 'json')), JSON.parse(JSON.stringify(json)));

  const sarif = diffSarif(report);
  const results = sarif.runs[0]?.results ?? [];
  assert.deepEqual(
    results.map((r) => [r.ruleId, r.level]),
    [
      ['phi-reachability-added', 'error'],
      ['connection-removed', 'note'],
    ],
  );
  const location = results[0]?.locations?.[0]?.physicalLocation;
  assert.equal(location?.artifactLocation.uri, 'examples/diff-scenario/after/20-policies.yaml');
  assert.ok((location?.region.startLine ?? 0) > 1);
});
