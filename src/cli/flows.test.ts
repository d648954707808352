import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runPhiwall } from '../testing/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLINIC = join(ROOT, 'examples/hipaa-clinic/insecure');
const SECURE = join(ROOT, 'examples/hipaa-clinic/secure');
const CONFIG = join(ROOT, 'examples/hipaa-clinic/phiwall.yaml');
const FLOWS = join(ROOT, 'examples/hipaa-clinic/flows.csv');

const dir = mkdtempSync(join(tmpdir(), 'phiwall-flows-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...argv: string[]) => runPhiwall(argv);

test('flows finds the enforcement gap in the clinic: a port the portal policy does not admit was used', async () => {
  const r = await run('flows', FLOWS, CLINIC, '--config', CONFIG);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^1 flow log\(s\): 10 records, 2824 connections from 2026-11-26T08:00:04\.000Z to 2026-11-26T09:12:40\.000Z; 10 distinct edges$/m,
  );
  assert.match(
    r.stdout,
    /^Observed but denied by policy \(enforcement gap\): 1\n {2}monitoring\/prometheus\[Deployment\] -> portal\/patient-portal\[Deployment\] TCP 9090: 96 connections \(1 record\), .*first at .*flows\.csv:10\n.*\n {6}ingress of portal\/patient-portal\[Deployment\]: admitted by portal\/patient-portal#spec\.ingress\[0\] .*: TCP 8443$/m,
  );
  assert.match(r.stdout, /^Allowed and used: 9$/m);
  assert.match(
    r.stdout,
    /^Allowed but never seen in the window \(tightening candidates\): \d+, \d+ touching PHI$/m,
  );
});

test('flows --format json: every group, with the policy verdict beside the observed one', async () => {
  const r = await run('flows', FLOWS, CLINIC, '--config', CONFIG, '--format', 'json');
  const json = JSON.parse(r.stdout);
  assert.deepEqual(
    {
      gaps: json.summary.gaps,
      used: json.summary.used,
      needed: json.summary.needed,
      records: json.summary.records,
    },
    { gaps: 1, used: 9, needed: 0, records: 10 },
  );
  assert.deepEqual(json.gap[0].src, { workload: 'monitoring/prometheus[Deployment]' });
  assert.equal(json.gap[0].observed, 'forwarded');
  assert.equal(json.gap[0].policy, 'deny');
  assert.ok(json.unused.length > 0);
  assert.equal(json.inputs[0].format, 'csv');
});

test('a forwarded flow into PHI that policy denies exits 1; malformed and unmapped records are counted', async () => {
  const flows = join(dir, 'gap.csv');
  writeFileSync(
    flows,
    [
      'time,src_namespace,src_pod,src_ip,dst_namespace,dst_pod,dst_ip,protocol,port,verdict',
      '2026-11-26T10:00:00Z,billing,invoicing-29160000-abcde,,records,records-db-0,,TCP,5432,forwarded',
      '2026-11-26T10:00:01Z,billing,invoicing-29160000-abcde,,records,records-db-0,,TCP,notaport,forwarded',
      '2026-11-26T10:00:02Z,gone,ghost-1,,records,records-db-0,,TCP,5432,forwarded',
      '',
    ].join('\n'),
  );
  // In the secure clinic, billing may not reach the records database.
  const r = await run('flows', flows, SECURE, '--config', CONFIG);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /CRITICAL: 1 enforcement gap\(s\) touch PHI/);
  assert.match(
    r.stdout,
    /\[PHI\] billing\/invoicing\[CronJob\] -> records\/records-db\[StatefulSet\] TCP 5432/,
  );
  assert.match(
    r.stdout,
    /unmapped: 1 flow\(s\) not matched to the manifests: 1 with a pod the snapshot does not hold \(gone\/ghost-1\)/,
  );
  assert.match(r.stderr, /gap\.csv:3: warning: 1 malformed csv record\(s\) skipped/);
});

test('flows without a flow log is a usage error', async () => {
  const r = await run('flows', CLINIC);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no flow log among/);
});

test('audit --flows passes HIPAA-NP-029 and reports observed traffic for PHI workloads', async () => {
  const r = await run('audit', CLINIC, '--config', CONFIG, '--flows', FLOWS, '--format', 'json');
  const json = JSON.parse(r.stdout);
  const logging = json.findings.filter((f: { check: string }) => f.check === 'HIPAA-NP-029');
  assert.deepEqual(
    logging.map((f: { status: string }) => f.status),
    ['pass'],
  );
  assert.deepEqual(json.traffic.files, [FLOWS]);
  assert.equal(json.traffic.gaps.length, 0);
  assert.deepEqual(
    json.traffic.used
      .map((e: { src: string; dst: string; port: number }) => `${e.src} ${e.dst} ${e.port}`)
      .sort(),
    [
      'ehr/ehr-api[Deployment] kube-system/coredns[Deployment] 53',
      'ehr/ehr-api[Deployment] records/records-db[StatefulSet] 5432',
      'ingress-nginx/ingress-nginx-controller[Deployment] ehr/ehr-api[Deployment] 8443',
      'monitoring/prometheus[Deployment] ehr/ehr-api[Deployment] 9443',
      'portal/patient-portal[Deployment] ehr/ehr-api[Deployment] 8443',
    ],
  );
  const text = await run('audit', CLINIC, '--config', CONFIG, '--flows', FLOWS);
  assert.match(
    text.stdout,
    /^Observed traffic vs policy \(PHI workloads\): .*flows\.csv; 10 records, 2824 flows/m,
  );
});

test('generate from the clinic flows: with its policies instead of the insecure ones, the PHI reachability checks pass', async () => {
  const out = join(dir, 'generated');
  const generated = await run('generate', '--from-flows', FLOWS, CLINIC, '--config', CONFIG, '-o', out);
  assert.equal(generated.code, 0, generated.stderr);
  assert.match(
    generated.stdout,
    /^proof: 10 observed edge\(s\) allowed; 4 connection\(s\) into 2 PHI workload\(s\), all observed$/m,
  );
  const workloads = ['00-namespaces.yaml', '10-workloads.yaml', '20-services.yaml'].map((f) =>
    join(CLINIC, f),
  );
  const reachability = async (...paths: string[]) => {
    const r = await run('audit', ...paths, '--config', CONFIG, '--format', 'json', '--fail-on', 'never');
    const findings = JSON.parse(r.stdout).findings as { check: string; status: string }[];
    const ids = Array.from({ length: 16 }, (_, i) => `HIPAA-NP-${String(i + 5).padStart(3, '0')}`);
    return findings.filter((f) => ids.includes(f.check) && f.status === 'fail').map((f) => f.check);
  };
  assert.notDeepEqual(await reachability(CLINIC), [], 'the insecure clinic fails some of them');
  assert.deepEqual(await reachability(...workloads, out), []);
});

test('audit --flows: a forwarded flow that policy denies fails HIPAA-NP-002 even with an enforcing CNI', async () => {
  const flows = join(dir, 'gap-audit.csv');
  writeFileSync(
    flows,
    'time,src_namespace,src_pod,src_ip,dst_namespace,dst_pod,dst_ip,protocol,port,verdict\n2026-11-26T10:00:00Z,billing,invoicing-29160000-abcde,,records,records-db-0,,TCP,5432,forwarded\n',
  );
  const before = await run('audit', SECURE, '--config', CONFIG, '--format', 'json', '--fail-on', 'never');
  const status = (json: string) =>
    (JSON.parse(json).findings as { check: string; status: string }[]).find((f) => f.check === 'HIPAA-NP-002')
      ?.status;
  assert.equal(status(before.stdout), 'pass');
  const r = await run(
    'audit',
    SECURE,
    '--config',
    CONFIG,
    '--flows',
    flows,
    '--format',
    'json',
    '--fail-on',
    'never',
  );
  const finding = (
    JSON.parse(r.stdout).findings as {
      check: string;
      status: string;
      evidence: { notes: string[]; edges: string[] };
    }[]
  ).find((f) => f.check === 'HIPAA-NP-002');
  assert.equal(finding?.status, 'fail');
  assert.match(
    finding?.evidence.notes[0] ?? '',
    /^verdict: not enforcing as written \(observed\): 1 edge\(s\)/,
  );
  assert.deepEqual(finding?.evidence.edges, [
    `billing/invoicing[CronJob] -> records/records-db[StatefulSet] TCP 5432 forwarded 1×, first at ${flows}:2`,
  ]);
  assert.equal(JSON.parse(r.stdout).traffic.gaps.length, 1);
});
