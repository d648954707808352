import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAudit } from '../compliance/audit.ts';
import { DEFAULT_CONFIG, loadAuditConfig } from '../compliance/config.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot, loadSnapshot } from '../load/snapshot.ts';
import { auditOf } from '../testing/audit.ts';
import { documentedChecks } from '../testing/catalogue-doc.ts';
import { assertValidSarif, validateSarif } from '../testing/sarif.ts';
import { findingOf, resultOf, SMALL_CLUSTER, sampleReport } from './audit-fixtures.ts';
import { auditSarif } from './audit-sarif.ts';

type Result = {
  ruleId: string;
  level: string;
  message: { text: string };
  locations?: {
    physicalLocation: { artifactLocation: { uri: string; index?: number }; region: { startLine: number } };
  }[];
  suppressions?: { kind: string; justification: string }[];
  properties: { status: string };
};

test('the schema check rejects what SARIF forbids, so passing it means something', () => {
  const log = auditSarif(sampleReport());
  assertValidSarif(log);
  const broken = JSON.parse(JSON.stringify(log));
  broken.runs[0].results[0].level = 'critical';
  assert.equal(validateSarif(broken), false);
  const noVersion = JSON.parse(JSON.stringify(log));
  delete noVersion.version;
  assert.equal(validateSarif(noVersion), false);
  const badUri = JSON.parse(JSON.stringify(log));
  badUri.runs[0].artifacts[0].location.uri = 'not a uri\\with spaces';
  assert.equal(validateSarif(badUri), false);
});

// GitHub code scanning maps these to Critical (over 9), High (7 to 8.9), Medium (4 to 6.9), Low.
const SECURITY: Record<string, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

test('one rule per documented check, with text help, severity and HIPAA sections as docs/hipaa-checks.md gives them', () => {
  const log = auditSarif(sampleReport());
  const rules = log.runs[0]?.tool.driver.rules ?? [];
  const documented = documentedChecks();
  assert.deepEqual(
    rules.map((r) => r.id),
    documented.map((d) => d.id),
  );
  for (const [i, rule] of rules.entries()) {
    const definition = documented[i];
    assert.ok(definition);
    assert.equal(rule.properties.severity, definition.severity);
    assert.deepEqual(rule.properties.hipaa, definition.hipaa);
    assert.match(rule.help.text, new RegExp(definition.id));
    // The row of this check in this repository's catalogue: package.json's repository, the row's anchor.
    assert.equal(
      rule.helpUri,
      `https://github.com/phiwall/phiwall/blob/main/docs/hipaa-checks.md#${definition.anchor}`,
    );
    assert.equal(definition.anchor, definition.id.toLowerCase());
    assert.equal(rule.properties['security-severity'], SECURITY[definition.severity]);
    assert.ok(rule.properties.tags.includes('security'));
  }
});

test('only failing and needs-review findings are results, leveled by severity, accepted ones suppressed', () => {
  const log = auditSarif(sampleReport());
  const results = (log.runs[0]?.results ?? []) as Result[];
  assert.deepEqual(results.map((r) => [r.ruleId, r.level, r.properties.status]).sort(), [
    ['HIPAA-NP-009', 'error', 'fail'],
    ['HIPAA-NP-010', 'error', 'fail'],
    ['HIPAA-NP-012', 'error', 'needs-review'],
    ['HIPAA-NP-024', 'warning', 'fail'],
  ]);
  const byRule = new Map(results.map((r) => [r.ruleId, r]));
  assert.deepEqual(byRule.get('HIPAA-NP-010')?.locations?.[0]?.physicalLocation, {
    artifactLocation: { uri: 'cluster.yaml', index: 0 },
    region: { startLine: 37 },
  });
  // Without a location of its own, a finding points at the first input.
  assert.deepEqual(byRule.get('HIPAA-NP-012')?.locations?.[0]?.physicalLocation.region, { startLine: 1 });
  assert.equal(byRule.get('HIPAA-NP-009')?.suppressions?.[0]?.kind, 'external');
  assert.match(
    byRule.get('HIPAA-NP-009')?.suppressions?.[0]?.justification ?? '',
    /health checks.*2027-01-31/,
  );
  assert.equal(byRule.get('HIPAA-NP-010')?.suppressions, undefined);
  assert.match(byRule.get('HIPAA-NP-012')?.message.text ?? '', /^Needs review: /);
  assert.deepEqual(log.runs[0]?.artifacts, [
    { location: { uri: 'cluster.yaml' }, hashes: { 'sha-256': sampleReport().snapshot.inputs[0]?.sha256 } },
  ]);
});

test('levels follow the severity table', () => {
  const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
  const report = sampleReport();
  report.result = resultOf(
    severities.map((severity) =>
      findingOf('HIPAA-NP-025', { status: 'fail', severity, objects: [`ns/${severity}`], evidence: {} }),
    ),
  );
  const log = auditSarif(report);
  assertValidSarif(log);
  assert.deepEqual(
    log.runs[0]?.results.map((r) => r.level),
    ['error', 'error', 'warning', 'note', 'note'],
  );
});

test('paths that are not plain relative names still make valid URIs; with no input only findings with their own location are located', () => {
  for (const path of ['<stdin>', '/abs/dir with space/c.yaml', 'dir/a#b?.yaml', 'C:\\k8s\\x.yaml']) {
    const report = sampleReport();
    report.snapshot = buildSnapshot([
      { path, text: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n' },
    ]);
    const log = auditSarif(report);
    assertValidSarif(log);
  }
  const empty = { ...sampleReport(), snapshot: buildSnapshot([]), config: DEFAULT_CONFIG };
  const log = auditSarif(empty);
  assertValidSarif(log);
  const located = ((log.runs[0]?.results ?? []) as Result[]).filter((r) => r.locations).map((r) => r.ruleId);
  assert.deepEqual(located, ['HIPAA-NP-010'], 'only the finding with a location of its own');
});

test('a real audit of a small cluster is valid SARIF with a result per open finding', () => {
  const result = auditOf(SMALL_CLUSTER);
  const log = auditSarif({ ...sampleReport(), result });
  assertValidSarif(log);
  const open = result.findings.filter((f) => f.status === 'fail' || f.status === 'needs-review');
  assert.equal(log.runs[0]?.results.length, open.length);
});

test('paths under the source root are repository-relative with %SRCROOT%, as code scanning needs', () => {
  const report = sampleReport();
  const root = '/home/ci/work/repo';
  const snapshot = {
    ...report.snapshot,
    inputs: [
      { path: `${root}/k8s/cluster.yaml`, sha256: 'a'.repeat(64) },
      { path: '/elsewhere/extra.yaml', sha256: 'b'.repeat(64) },
    ],
  };
  const finding = findingOf('HIPAA-NP-024', {
    status: 'fail',
    objects: ['phi/db[Deployment]'],
    evidence: {},
    location: { file: `${root}/k8s/cluster.yaml`, line: 12 },
    remediation: { text: 'Apply the policy below.', yaml: 'kind: NetworkPolicy\n' },
  });
  const log = auditSarif({
    ...report,
    snapshot,
    result: resultOf([finding]),
    run: {
      repository: { root, commit: 'c0ffee' },
      commandLine: 'phiwall audit k8s',
      user: 'ci',
      host: 'runner',
    },
  });
  assertValidSarif(log);
  const run = log.runs[0];
  assert.ok(run);
  assert.deepEqual(run.originalUriBaseIds, { '%SRCROOT%': { uri: 'file:///home/ci/work/repo/' } });
  assert.deepEqual(
    run.artifacts.map((a) => a.location),
    [{ uri: 'k8s/cluster.yaml', uriBaseId: '%SRCROOT%' }, { uri: 'file:///elsewhere/extra.yaml' }],
  );
  const result = run.results[0] as unknown as {
    locations: { physicalLocation: { artifactLocation: unknown } }[];
    message: { text: string; markdown?: string };
    properties: { rootCause?: string };
  };
  assert.deepEqual(result.locations[0]?.physicalLocation.artifactLocation, {
    uri: 'k8s/cluster.yaml',
    uriBaseId: '%SRCROOT%',
    index: 0,
  });
  // The manifest the fix refers to is in the message code scanning shows, not only in properties.
  assert.match(result.message.text, /kind: NetworkPolicy/);
  assert.match(result.message.markdown ?? '', /```yaml\nkind: NetworkPolicy\n```/);
  assert.equal(result.properties.rootCause, 'object:phi/db[Deployment]');
  assert.deepEqual(run.versionControlProvenance, [
    { repositoryUri: 'file:///home/ci/work/repo/', revisionId: 'c0ffee' },
  ]);
  assert.equal(run.invocations[0]?.commandLine, 'phiwall audit k8s');
});

// GitHub's documented upload limits (code scanning, "SARIF results exceed limit"): at most 20 runs,
// 25,000 results and 25,000 rules per run, 1,000 locations per result, 20 tags per rule (10 shown);
// security-severity a number from 0 to 10; locations relative to %SRCROOT% so alerts land on files.
test("the clinic's audit as code scanning needs it: within GitHub's limits, every result located in the checkout", () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const example = `${root}examples/hipaa-clinic/`;
  const { config } = loadAuditConfig(`${example}phiwall.yaml`);
  const snapshot = loadSnapshot([`${example}insecure`]);
  const result = runAudit(new Engine(snapshot, DEFAULT_OPTIONS), config, {
    now: new Date('2026-11-27'),
    verifyFixes: Number.POSITIVE_INFINITY,
  });
  const log = auditSarif({
    result,
    snapshot,
    config,
    generatedAt: new Date('2026-11-27T10:00:00Z'),
    run: { repository: { root, commit: 'c0ffee' } },
  });
  assertValidSarif(log);
  assert.ok(log.runs.length <= 20);
  const run = log.runs[0];
  assert.ok(run);
  assert.ok(run.results.length > 0 && run.results.length <= 25_000);
  assert.ok(run.tool.driver.rules.length <= 25_000);
  for (const rule of run.tool.driver.rules) {
    assert.ok(rule.properties.tags.length <= 10, rule.id);
    const score = Number(rule.properties['security-severity']);
    assert.ok(score >= 0 && score <= 10, rule.id);
    assert.ok(rule.shortDescription.text && rule.help.text, rule.id);
  }
  const ruleIds = new Set(run.tool.driver.rules.map((r) => r.id));
  for (const r of run.results as unknown as {
    ruleId: string;
    message: { text: string };
    locations?: {
      physicalLocation: {
        artifactLocation: { uri: string; uriBaseId?: string };
        region: { startLine: number };
      };
    }[];
    partialFingerprints: Record<string, string>;
  }[]) {
    assert.ok(ruleIds.has(r.ruleId));
    assert.ok(r.message.text.length > 0);
    assert.ok(r.locations && r.locations.length >= 1 && r.locations.length <= 1000, r.ruleId);
    const { artifactLocation, region } = r.locations[0]?.physicalLocation ?? {};
    assert.equal(artifactLocation?.uriBaseId, '%SRCROOT%');
    assert.match(artifactLocation?.uri ?? '', /^examples\/hipaa-clinic\/insecure\/[\w.-]+\.yaml$/);
    assert.ok((region?.startLine ?? 0) >= 1);
    assert.ok(Object.keys(r.partialFingerprints).length > 0);
  }
  // The engine's check of the root cause's fix travels with each of its findings, where GitHub shows it.
  const records = (
    run.results as unknown as { message: { text: string }; properties: { rootCause?: string } }[]
  ).filter((r) => r.properties.rootCause === 'default-deny:records');
  assert.ok(records.length > 0);
  for (const r of records)
    assert.match(r.message.text, /Fix check \(root cause default-deny:records\): fix verified by the engine/);
});
