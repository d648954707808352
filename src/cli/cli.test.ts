import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './io.ts';
import { runCli } from './main.ts';

const STACK_FRAME = /^\s+at .+:\d+:\d+/m;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Markers in the fixtures are unique, so tests find positions by text instead of hardcoded line numbers.
const CLUSTER = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: { app: web }
spec:
  containers:
    - name: c
      ports: [{ name: http, containerPort: 8080 }]
status: { podIP: 10.1.0.5 }
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: shop
  labels: { app: db }
spec:
  containers: [{ name: c }]
status: { podIP: 10.1.0.6 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: jobs }
spec:
  template:
    metadata: { labels: { app: worker } }
    spec: { containers: [{ name: c }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: worker, namespace: jobs }
spec:
  template:
    metadata: { labels: { app: worker-sts } }
    spec: { containers: [{ name: c }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-in, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress:
    - from: [{ podSelector: { matchLabels: { app: db } } }]
      ports: [{ port: http }]
    - from: [{ ipBlock: { cidr: 10.1.0.6/32 } }]
      ports: [{ port: 9090 }]
`;

const BAD_CIDR = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: broken, namespace: shop }
spec:
  podSelector: {}
  ingress:
    - from:
        - ipBlock:
            cidr: 10.0.0.300/8
`;

const TESTS = `tests:
  - name: db reaches web over http
    from: shop/db
    to: shop/web
    port: http
    expect: allow
  - from: jobs/worker[Deployment]
    to: shop/web
    port: 8080
    expect: deny
`;

const dir = mkdtempSync(join(tmpdir(), 'phiwall-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function file(text: string, name = `f${fileCount++}.yaml`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const cluster = file(CLUSTER, 'cluster.yaml');
const badCidr = file(BAD_CIDR, 'bad-cidr.yaml');
const passingTests = file(TESTS, 'tests.yaml');

/** A path as a regular expression source: temp folders may hold metacharacters. */
function re(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `fixture lacks ${needle}`);
  return text.slice(0, index).split('\n').length;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  stdinReads: number;
}

async function run(argv: string[], stdin?: string): Promise<Run> {
  const result = { code: -1, stdout: '', stderr: '', stdinReads: 0 };
  const io: CliIo = {
    stdout: (text) => {
      result.stdout += text;
    },
    stderr: (text) => {
      result.stderr += text;
    },
    readStdin: () => {
      result.stdinReads++;
      if (stdin === undefined) throw new Error('stdin was read but the test gave none');
      return stdin;
    },
  };
  result.code = await runCli(argv, io);
  return result;
}

function assertBadInput(r: Run, stderr: RegExp): void {
  assert.equal(r.code, 2, `exit status ${r.code}, stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, STACK_FRAME);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.match(r.stderr, stderr);
  assert.equal(r.stdout, '');
}

test('connectivity exits 0 and lists what the policies allow', async () => {
  const r = await run(['connectivity', cluster]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^shop\/db\[Pod\] => shop\/web\[Pod\] : TCP 8080,9090 {2}\(depends on: ipblock-matches-pods\)$/m,
  );
  assert.equal(r.stderr, 'phiwall: CNI profile: generic (no Cilium or Calico DaemonSet in the input)\n');
});

test('connectivity --format json keeps the documented contract', async () => {
  const r = await run(['connectivity', cluster, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.ok(Array.isArray(json.connections) && json.connections.length > 0);
  for (const c of json.connections) {
    for (const peer of [c.src, c.dst]) {
      const ok =
        (typeof peer.workload === 'string' && /^[^/]+\/[^/]+\[[A-Za-z]+\]$/.test(peer.workload)) ||
        (Array.isArray(peer.external) && peer.external.every((cidr: unknown) => typeof cidr === 'string'));
      assert.ok(ok, `bad peer ${JSON.stringify(peer)}`);
    }
    const protocols = Object.keys(c.ports);
    assert.ok(protocols.length > 0, 'a connection allows something');
    for (const protocol of protocols) {
      assert.ok(['TCP', 'UDP', 'SCTP', 'ICMP'].includes(protocol));
      for (const range of c.ports[protocol]) {
        assert.ok(Number.isInteger(range[0]) && range[0] <= range[1] && range[1] <= 65535);
      }
    }
  }
  assert.deepEqual(
    json.connections.find((c: { src: unknown; dst: unknown }) =>
      JSON.stringify([c.src, c.dst]).includes('"shop/db[Pod]"},{"workload":"shop/web[Pod]"'),
    )?.ports,
    {
      TCP: [
        [8080, 8080],
        [9090, 9090],
      ],
    },
  );
});

test('global options are accepted before and after the command name', async () => {
  for (const argv of [
    ['--ipblock-matches-pods', 'false', '--host-network', 'pod', 'connectivity', cluster, '-f', 'json'],
    ['connectivity', cluster, '-f', 'json', '--ipblock-matches-pods', 'false', '--host-network', 'pod'],
  ]) {
    const r = await run(argv);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(json.options, { ipBlockMatchesPods: false, hostNetwork: 'pod' });
    // Without ipBlocks matching pod IPs, db keeps only the port its podSelector rule grants.
    const toWeb = json.connections.find(
      (c: { src: { workload?: string }; dst: { workload?: string } }) =>
        c.src.workload === 'shop/db[Pod]' && c.dst.workload === 'shop/web[Pod]',
    );
    assert.deepEqual(toWeb?.ports, { TCP: [[8080, 8080]] }, argv.join(' '));
  }
});

test('--focus keeps only connections into or out of the workload', async () => {
  const all = await run(['connectivity', cluster, '-f', 'json']);
  const focused = await run(['connectivity', cluster, '-f', 'json', '--focus', 'jobs/worker[StatefulSet]']);
  assert.equal(focused.code, 0, focused.stderr);
  const touches = (c: { src: { workload?: string }; dst: { workload?: string } }) =>
    c.src.workload === 'jobs/worker[StatefulSet]' || c.dst.workload === 'jobs/worker[StatefulSet]';
  const everything = JSON.parse(all.stdout).connections;
  const only = JSON.parse(focused.stdout).connections;
  assert.ok(everything.some((c: Parameters<typeof touches>[0]) => !touches(c)));
  assert.ok(only.length > 0 && only.every(touches));
  assert.deepEqual(only, everything.filter(touches));
});

test('--focus on an ambiguous or unknown workload is bad input', async () => {
  assertBadInput(await run(['connectivity', cluster, '--focus', 'jobs/worker']), /ambiguous/);
  assertBadInput(
    await run(['connectivity', cluster, '--focus', 'jobs/nope']),
    /unknown workload "jobs\/nope"/,
  );
});

test('- reads manifests from stdin', async () => {
  const r = await run(['connectivity', '-', '-f', 'json'], CLUSTER);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdinReads, 1);
  const json = JSON.parse(r.stdout);
  assert.equal(json.inputs[0].path, '<stdin>');
  assert.ok(json.connections.some((c: { dst: { workload?: string } }) => c.dst.workload === 'shop/web[Pod]'));
});

test('errors in stdin input are positioned at <stdin>', async () => {
  assertBadInput(await run(['connectivity', '-'], BAD_CIDR), /^<stdin>:9:19: /m);
});

test('bad input exits 2 with a positioned message and no stack trace', async (t) => {
  const yaml = file('apiVersion: v1\nkind: Pod\nmetadata: [\n');
  const cases: [string, string[], RegExp][] = [
    ['a YAML syntax error', ['connectivity', yaml], new RegExp(`^${re(yaml)}:\\d+:\\d+: invalid YAML`, 'm')],
    [
      'an invalid CIDR',
      ['connectivity', badCidr],
      new RegExp(
        `^${re(badCidr)}:${lineOf(BAD_CIDR, 'cidr:')}:19: spec\\.ingress\\[0\\]\\.from\\[0\\]\\.ipBlock\\.cidr: `,
        'm',
      ),
    ],
    ['a missing file', ['connectivity', join(dir, 'missing.yaml')], /missing\.yaml: no such file or folder/],
    ['an unknown option', ['connectivity', cluster, '--bogus'], /unknown option '--bogus'/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown format', ['connectivity', cluster, '-f', 'xml'], /argument 'xml' is invalid/],
    [
      'an unknown workload in explain',
      ['explain', 'shop/nope', 'shop/web', cluster],
      /unknown workload "shop\/nope"/,
    ],
    ['an ambiguous workload in explain', ['explain', 'jobs/worker', 'shop/web', cluster], /ambiguous/],
    ['a port out of range', ['explain', 'shop/db', 'shop/web', '--port', '0', cluster], /--port/],
    ['a port that is not decimal', ['explain', 'shop/db', 'shop/web', '--port', '0x50', cluster], /--port/],
    ['a bad protocol', ['explain', 'shop/db', 'shop/web', '--protocol', 'ICMP', cluster], /ICMP/],
    ['a bad boolean global option', ['--ipblock-matches-pods', 'maybe', 'connectivity', cluster], /maybe/],
    ['a bad host-network mode', ['connectivity', cluster, '--host-network', 'both'], /both/],
    ['a test run without --tests', ['test', cluster], /--tests/],
  ];
  for (const [name, argv, stderr] of cases) {
    await t.test(name, async () => assertBadInput(await run(argv), stderr));
  }
});

test('--skip-invalid analyses the rest and marks the result partial', async () => {
  assertBadInput(await run(['connectivity', cluster, badCidr]), /is not a valid CIDR/);

  const text = await run(['connectivity', cluster, badCidr, '--skip-invalid']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# PARTIAL/);
  assert.match(text.stdout, /shop\/db\[Pod\] => shop\/web\[Pod\]/);
  assert.match(text.stderr, /warning: .*the result is partial/);
  assert.match(text.stderr, /warning: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: /);

  const json = await run(['connectivity', cluster, badCidr, '--skip-invalid', '-f', 'json']);
  assert.equal(JSON.parse(json.stdout).partial, true);
  const clean = await run(['connectivity', cluster, '-f', 'json']);
  assert.equal(JSON.parse(clean.stdout).partial, false);
});

test('explain gives the verdict and the deciding policies with file:line', async () => {
  const r = await run(['explain', 'shop/db', 'shop/web', '--port', '8080', cluster]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Verdict on TCP 8080: ALLOWED$/m);
  const policyLine = lineOf(CLUSTER, 'apiVersion: networking.k8s.io/v1');
  const ruleLine = lineOf(CLUSTER, '- from: [{ podSelector');
  assert.ok(r.stdout.includes(`isolated by shop/web-in (${cluster}:${policyLine})`), r.stdout);
  assert.ok(
    r.stdout.includes(`admitted by shop/web-in ingress[0] (${cluster}:${ruleLine}): TCP 8080  <- matches`),
  );

  const denied = await run(['explain', 'jobs/worker[Deployment]', 'shop/web', cluster, '-p', '8080']);
  assert.match(denied.stdout, /Verdict on TCP 8080: DENIED/);
  assert.match(denied.stdout, /no ingress rule admits jobs\/worker\[Deployment\]: denied/);
});

test('explain takes IPs for either end and answers in JSON', async () => {
  const r = await run(['explain', '203.0.113.9', '10.1.0.5', '--port', '8080', '--format', 'json', cluster]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.from, '203.0.113.9');
  assert.equal(json.to, 'shop/web[Pod]');
  assert.equal(json.verdict, 'deny');
  assert.deepEqual(json.egress, { governed: false });
  assert.equal(
    json.ingress.isolatedBy[0].at,
    `${cluster}:${lineOf(CLUSTER, 'apiVersion: networking.k8s.io/v1')}`,
  );
});

test('test exits 0 when every test passes and prints the JSON contract', async () => {
  const r = await run(['test', cluster, '--tests', passingTests, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(json.summary, { passed: 2, failed: 0 });
  assert.deepEqual(Object.keys(json.results[0]).sort(), [
    'actual',
    'expect',
    'from',
    'name',
    'pass',
    'port',
    'protocol',
    'reason',
    'to',
  ]);
  assert.deepEqual(json.results[0], {
    ...json.results[0],
    name: 'db reaches web over http',
    from: 'shop/db',
    to: 'shop/web',
    port: 'http',
    protocol: 'TCP',
    expect: 'allow',
    actual: 'allow',
    pass: true,
  });
  assert.equal(json.results[1].name, 'jobs/worker[Deployment] -> shop/web TCP 8080 deny');
  assert.match(json.results[0].reason, /ingress admitted by shop\/web-in ingress\[0\]/);
});

test('test exits 1 when a test fails, and says why', async () => {
  const failing = file(`tests:
  - { name: web reaches db, from: shop/web, to: shop/db, port: 5432, expect: deny }
  - { name: db reaches web, from: shop/db, to: shop/web, port: 8080, expect: allow }
`);
  const r = await run(['test', cluster, '--tests', failing]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    /^FAIL web reaches db\n\s+expected deny, got allow: no NetworkPolicy isolates either end$/m,
  );
  assert.match(r.stdout, /^PASS db reaches web$/m);
  assert.match(r.stdout, /^1 passed, 1 failed$/m);

  const json = await run(['test', cluster, '--tests', failing, '-f', 'json']);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout).summary, { passed: 1, failed: 1 });
});

test('test: bad tests are input errors with file:line, never failures', async (t) => {
  const unknown = file(
    'tests:\n  - { from: shop/db, to: shop/web, port: 80, expect: allow }\n  - { from: shop/gone, to: shop/web, port: 80, expect: allow }\n',
  );
  const badPort = file('tests:\n  - from: shop/db\n    to: shop/web\n    port: grpc\n    expect: allow\n');
  const badField = file('tests:\n  - from: shop/db\n    to: shop/web\n    expect: maybe\n');
  const badYaml = file('tests: [\n');
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown workload',
      ['--tests', unknown],
      new RegExp(`^${re(unknown)}:3:\\d+: tests\\[1\\]\\.from: unknown workload "shop/gone"`, 'm'),
    ],
    [
      'an unknown named port',
      ['--tests', badPort],
      new RegExp(`^${re(badPort)}:4:\\d+: tests\\[0\\]\\.port: .*no TCP port named "grpc"`, 'm'),
    ],
    [
      'a bad expectation',
      ['--tests', badField],
      new RegExp(`^${re(badField)}:4:\\d+: tests\\[0\\]\\.expect: `, 'm'),
    ],
    ['a YAML error', ['--tests', badYaml], new RegExp(`^${re(badYaml)}:\\d+:\\d+: invalid YAML`, 'm')],
    ['a missing tests file', ['--tests', join(dir, 'none.yaml')], /none\.yaml: no such file or folder/],
  ];
  for (const [name, args, stderr] of cases) {
    await t.test(name, async () => assertBadInput(await run(['test', cluster, ...args]), stderr));
  }
});

/** Enough of XML to catch unbalanced tags, unquoted attributes and unescaped text. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  assert.notEqual(body, xml, 'missing XML declaration');
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const open: string[] = [];
  let roots = 0;
  while (token.lastIndex < body.length) {
    const at = token.lastIndex;
    const m = token.exec(body);
    assert.ok(m, `malformed XML at ${JSON.stringify(body.slice(at, at + 40))}`);
    const [, closing, name, attributes = '', selfClosing, text] = m;
    if (text !== undefined) {
      assert.doesNotMatch(text, /&(?!(?:#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);)/i, 'unescaped &');
      if (open.length === 0) assert.match(text, /^\s*$/, 'text outside the root element');
      continue;
    }
    assert.doesNotMatch(
      attributes,
      /&(?!(?:#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);)/i,
      'unescaped & in attribute',
    );
    if (closing) assert.equal(open.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) {
      if (open.length === 0) roots++;
      open.push(name as string);
    } else if (open.length === 0) roots++;
  }
  assert.deepEqual(open, [], 'unclosed elements');
  assert.equal(roots, 1, 'one root element');
}

test('test --format junit is well-formed XML that counts failures', async () => {
  const tests = file(`tests:
  - { name: 'web <-> db & "quotes"', from: shop/web, to: shop/db, port: 5432, expect: deny }
  - { name: db reaches web, from: shop/db, to: shop/web, port: 8080, expect: allow }
  - { name: worker is kept out, from: 'jobs/worker[StatefulSet]', to: shop/web, port: 8080, expect: deny }
`);
  const r = await run(['test', cluster, '--tests', tests, '--format', 'junit']);
  assert.equal(r.code, 1, r.stderr);
  assertWellFormedXml(r.stdout);
  assert.match(r.stdout, /<testsuite [^>]*tests="3" failures="1"/);
  assert.equal(r.stdout.match(/<testcase /g)?.length, 3);
  assert.equal(r.stdout.match(/<failure /g)?.length, 1);
  assert.match(
    r.stdout,
    /<testcase [^>]*name="web &#60;-&#62; db &#38; &#34;quotes&#34;">\n {4}<failure message="expected deny, got allow">/,
  );
});

test('--help of the program and of every command shows examples and exits 0', async () => {
  for (const argv of [
    ['--help'],
    ['connectivity', '--help'],
    ['explain', '--help'],
    ['test', '--help'],
    ['help', 'test'],
  ]) {
    const r = await run(argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: phiwall/m, argv.join(' '));
    assert.match(r.stdout, /^Examples:\n {2}phiwall /m, argv.join(' '));
  }
});

test('--version prints the package version, on the program and on commands', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const argv of [['--version'], ['-V'], ['connectivity', '--version']]) {
    const r = await run(argv);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('the built bin/phiwall exits 2 without a stack trace on bad input and 0 with JSON on good', () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: run `npm run build` first');
  const phiwall = (...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'phiwall'), ...args], { encoding: 'utf8' });

  const bad = phiwall('connectivity', badCidr);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /is not a valid CIDR/);
  assert.doesNotMatch(bad.stderr, STACK_FRAME);

  const good = phiwall('connectivity', cluster, '--format', 'json');
  assert.equal(good.status, 0, good.stderr);
  assert.ok(Array.isArray(JSON.parse(good.stdout).connections));
});
