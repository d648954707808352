import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

const ROOT_CAUSE_RULES = ['default-deny', 'isolation', 'rule', 'object', 'review'].map(
  (kind) => `phiwall/root-cause/${kind}`,
);

const isFinding = (r: { ruleId: string }) => r.ruleId.startsWith('HIPAA-NP-');

test('one rule per documented check, with text help, severity and HIPAA sections as docs/hipaa-checks.md gives them', () => {
  const log = auditSarif(sampleReport());
  const rules = (log.runs[0]?.tool.driver.rules ?? []) as {
    id: string;
    help: { text: string };
    helpUri: string;
    properties: { severity?: string; hipaa?: string[]; 'security-severity'?: string; tags: string[] };
  }[];
  const documented = documentedChecks();
  // The checks' rules first (their ruleIndex is their catalogue position), then one per root-cause kind.
  assert.deepEqual(
    rules.map((r) => r.id),
    [...documented.map((d) => d.id), ...ROOT_CAUSE_RULES],
  );
  for (const [i, rule] of rules.slice(0, documented.length).entries()) {
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
  // Root-cause rules link the docs section on how their results relate to the findings' (GitHub's
  // anchor of the heading), and carry no security-severity: GitHub counts the findings, not them.
  const docs = readFileSync(new URL('../../docs/hipaa-checks.md', import.meta.url), 'utf8');
  assert.match(docs, /^### Root causes in SARIF$/m);
  for (const rule of rules.slice(documented.length)) {
    assert.equal(
      rule.helpUri,
      'https://github.com/phiwall/phiwall/blob/main/docs/hipaa-checks.md#root-causes-in-sarif',
    );
    assert.equal(rule.properties['security-severity'], undefined, rule.id);
    assert.ok(rule.properties.tags.includes('root-cause'), rule.id);
  }
});

test('only failing and needs-review findings are results, leveled by severity, accepted ones suppressed', () => {
  const log = auditSarif(sampleReport());
  const results = ((log.runs[0]?.results ?? []) as Result[]).filter(isFinding);
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
    log.runs[0]?.results.filter(isFinding).map((r) => r.level),
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
  assert.deepEqual(
    located,
    ['HIPAA-NP-010', 'phiwall/root-cause/rule'],
    'only the finding with a location of its own, and its root cause',
  );
});

test('a real audit of a small cluster is valid SARIF with a result per open finding', () => {
  const result = auditOf(SMALL_CLUSTER);
  const log = auditSarif({ ...sampleReport(), result });
  assertValidSarif(log);
  const open = result.findings.filter((f) => f.status === 'fail' || f.status === 'needs-review');
  assert.equal(log.runs[0]?.results.filter(isFinding).length, open.length);
  assert.ok(result.rootCauses.length > 0);
  assert.deepEqual(
    log.runs[0]?.results.filter((r) => !isFinding(r)).map((r) => r.properties.rootCause),
    result.rootCauses.map((c) => c.id),
  );
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
    assert.ok(rule.shortDescription.text && rule.help.text, rule.id);
    // Root-cause rules have no security-severity: their findings are counted, not they (docs/hipaa-checks.md).
    if (!('security-severity' in rule.properties)) {
      assert.ok(ROOT_CAUSE_RULES.includes(rule.id), rule.id);
      continue;
    }
    const score = Number(rule.properties['security-severity']);
    assert.ok(score >= 0 && score <= 10, rule.id);
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
    relatedLocations?: unknown[];
    partialFingerprints: Record<string, string>;
  }[]) {
    assert.ok(ruleIds.has(r.ruleId));
    assert.ok(r.message.text.length > 0);
    assert.ok(r.locations && r.locations.length >= 1, r.ruleId);
    // Within GitHub's locations per result (1,000, 100 shown), even counting the related ones.
    assert.ok(r.locations.length + (r.relatedLocations?.length ?? 0) <= 100, r.ruleId);
    const { artifactLocation, region } = r.locations[0]?.physicalLocation ?? {};
    assert.equal(artifactLocation?.uriBaseId, '%SRCROOT%');
    assert.match(artifactLocation?.uri ?? '', /^examples\/hipaa-clinic\/insecure\/[\w.-]+\.yaml$/);
    assert.ok((region?.startLine ?? 0) >= 1);
    assert.ok(Object.keys(r.partialFingerprints).length > 0);
  }
  // The engine's check of the root cause's fix travels with each of its findings, where GitHub shows it.
  const records = (
    run.results as unknown as {
      ruleId: string;
      message: { text: string };
      properties: { rootCause?: string };
    }[]
  ).filter((r) => r.properties.rootCause === 'default-deny:records');
  const [cause, ...own] = [...records.filter((r) => !isFinding(r)), ...records.filter(isFinding)];
  assert.ok(own.length > 0);
  for (const r of own)
    assert.match(r.message.text, /Fix check \(root cause default-deny:records\): fix verified by the engine/);
  // And with the root cause's own result, once.
  assert.equal(cause?.ruleId, 'phiwall/root-cause/default-deny');
  assert.match(cause?.message.text ?? '', /\nFix check: fix verified by the engine/);
});

type CauseResult = {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string; markdown: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
  relatedLocations?: {
    id: number;
    physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
    message: { text: string };
  }[];
  suppressions?: { kind: string; justification: string }[];
  properties: { rootCause: string; severity: string; findings: number };
};

function causeResults(log: ReturnType<typeof auditSarif>): CauseResult[] {
  return (log.runs[0]?.results ?? []).filter((r) => !isFinding(r)) as unknown as CauseResult[];
}

const DB = 'phi/db[Deployment]';
const RULE = { rule: 'phi/db-in#spec.ingress[0].from[0]', at: 'cluster.yaml:37' };

test('a root cause is a note-level result at its place, its findings as related locations linked from the message, with its fix', () => {
  const report = sampleReport();
  const findings = [
    findingOf('HIPAA-NP-010', {
      status: 'fail',
      objects: [DB],
      evidence: { rules: [RULE] },
      location: { file: 'cluster.yaml', line: 37 },
      remediation: { text: 'Replace the rule.', yaml: 'kind: NetworkPolicy\n# ``` inside\n' },
    }),
    findingOf('HIPAA-NP-009', {
      status: 'fail',
      objects: [DB],
      evidence: { rules: [RULE] },
      location: { file: 'cluster.yaml', line: 37 },
    }),
    findingOf('HIPAA-NP-014', {
      status: 'fail',
      objects: [DB],
      evidence: { rules: [RULE] },
      location: { file: 'cluster.yaml', line: 30 },
    }),
    findingOf('HIPAA-NP-024', {
      status: 'fail',
      objects: ['phi'],
      evidence: {},
      accepted: { reason: 'vendor appliance', until: '2027-01-31' },
    }),
  ];
  const result = resultOf(findings);
  const rule = result.rootCauses.find((c) => c.id === 'rule:phi/db-in#spec.ingress[0]');
  assert.ok(rule, result.rootCauses.map((c) => c.id).join(', '));
  rule.verification = { status: 'verified', text: 'fix verified by the engine: 3 of its 3 finding(s) pass' };
  const log = auditSarif({ ...report, result });
  assertValidSarif(log);
  const rules = log.runs[0]?.tool.driver.rules ?? [];
  const causes = causeResults(log);
  // One per root cause: the rule's three findings, and the accepted hostPort finding on its own.
  assert.deepEqual(
    causes.map((c) => [c.ruleId, c.level, c.properties.rootCause, c.properties.findings]),
    [
      ['phiwall/root-cause/rule', 'note', 'rule:phi/db-in#spec.ingress[0]', 3],
      ['phiwall/root-cause/object', 'note', 'object:phi', 1],
    ],
  );
  for (const c of causes) assert.equal(rules[c.ruleIndex]?.id, c.ruleId);
  const [open, accepted] = causes as [CauseResult, CauseResult];
  // Severity: the highest of its findings, 009's critical; at the first finding's place.
  assert.equal(open.properties.severity, 'critical');
  assert.match(open.message.text, /^Root cause \(critical\): ingress rule phi\/db-in#spec\.ingress\[0\]: /);
  assert.deepEqual(open.locations[0]?.physicalLocation.region, { startLine: 37 });
  // One related location per place, naming the findings there; the message links them (brackets escaped).
  assert.deepEqual(
    open.relatedLocations?.map((r) => [r.id, r.physicalLocation.region.startLine, r.message.text]),
    [
      [1, 37, `HIPAA-NP-010 ${DB}; HIPAA-NP-009 ${DB}`],
      [2, 30, `HIPAA-NP-014 ${DB}`],
    ],
  );
  assert.match(
    open.message.text,
    /3 finding\(s\) of HIPAA-NP-009, HIPAA-NP-010, HIPAA-NP-014, each also a result under its check: \[HIPAA-NP-010 phi\/db\\\[Deployment\\\]\]\(1\), \[HIPAA-NP-014 phi\/db\\\[Deployment\\\]\]\(2\)\./,
  );
  // The fix, the engine's check of it and the manifest, in the text code scanning shows.
  assert.match(
    open.message.text,
    /\nFix: Replace the rule\.\nFix check: fix verified by the engine: 3 of its 3 finding\(s\) pass\.\n\nkind: NetworkPolicy/,
  );
  // A backtick run in the manifest cannot close the markdown fence early.
  assert.match(open.message.markdown, /\n````yaml\nkind: NetworkPolicy\n# ``` inside\n````\n$/);
  assert.equal(open.suppressions, undefined);
  assert.equal(accepted.suppressions?.[0]?.kind, 'external');
  // The findings stay results of their own, at their checks' levels: they are what GitHub counts.
  assert.deepEqual(
    (log.runs[0]?.results ?? []).filter(isFinding).map((r) => [r.ruleId, r.level]),
    [
      ['HIPAA-NP-009', 'error'],
      ['HIPAA-NP-010', 'error'],
      ['HIPAA-NP-014', 'error'],
      ['HIPAA-NP-024', 'warning'],
    ],
  );
});

test("a root cause over many places lists GitHub's 100 as related locations and counts the rest", () => {
  const findings = Array.from({ length: 150 }, (_, i) =>
    findingOf('HIPAA-NP-010', {
      status: 'fail',
      objects: [`phi/db-${i}[Deployment]`],
      evidence: { rules: [RULE] },
      location: { file: 'cluster.yaml', line: i + 1 },
    }),
  );
  const log = auditSarif({ ...sampleReport(), result: resultOf(findings) });
  assertValidSarif(log);
  const [cause] = causeResults(log);
  assert.ok(cause);
  assert.equal(cause.properties.findings, 150);
  assert.equal(cause.relatedLocations?.length, 100);
  assert.deepEqual(cause.relatedLocations?.[99]?.physicalLocation.region, { startLine: 100 });
  assert.equal(cause.message.text.match(/\]\(\d+\)/g)?.length, 10);
  assert.match(
    cause.message.text,
    /\(8\), .*\(10\), … \(150 places in all, the first 100 listed as related locations\)\./,
  );
});
