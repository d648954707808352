import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectivityTests } from './connectivity-tests.ts';
import { formatDiagnostic, InputError } from './diagnostics.ts';

function parse(text: string) {
  return parseConnectivityTests({ path: 'tests.yaml', text });
}

/** Every diagnostic as `file:line:column: field: message`. */
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

const DOCUMENTED = `# Connectivity the clinic relies on, and connectivity it must never have.
tests:
  - name: portal reaches the records API over TLS
    from: frontend/portal
    to: records/api
    port: https
    expect: allow
  - name: the internet cannot reach the database
    from: 198.51.100.7
    to: records/db
    port: 5432
    expect: deny
  - name: the records API resolves names
    from: records/api
    to: kube-system/coredns
    port: 53
    protocol: UDP
    expect: allow
  - from: billing/invoices
    to: records/api
    expect: deny
`;

test('the documented format reads into tests, with TCP as the default protocol', () => {
  const tests = parse(DOCUMENTED);
  assert.deepEqual(
    tests.map(({ provenance: _, locateField: __, ...rest }) => rest),
    [
      {
        name: 'portal reaches the records API over TLS',
        from: 'frontend/portal',
        to: 'records/api',
        port: 'https',
        protocol: 'TCP',
        expect: 'allow',
      },
      {
        name: 'the internet cannot reach the database',
        from: '198.51.100.7',
        to: 'records/db',
        port: 5432,
        protocol: 'TCP',
        expect: 'deny',
      },
      {
        name: 'the records API resolves names',
        from: 'records/api',
        to: 'kube-system/coredns',
        port: 53,
        protocol: 'UDP',
        expect: 'allow',
      },
      { from: 'billing/invoices', to: 'records/api', protocol: 'TCP', expect: 'deny' },
    ],
  );
});

test('each test knows where it is written', () => {
  const tests = parse(DOCUMENTED);
  assert.deepEqual(
    tests.map((t) => [t.provenance.file, t.provenance.locate()]),
    [
      ['tests.yaml', { line: 3, column: 5 }],
      ['tests.yaml', { line: 8, column: 5 }],
      ['tests.yaml', { line: 13, column: 5 }],
      ['tests.yaml', { line: 19, column: 5 }],
    ],
  );
});

test('the same format in JSON is accepted', () => {
  const tests = parseConnectivityTests({
    path: 'tests.json',
    text: JSON.stringify({ tests: [{ from: 'a/b', to: 'c/d', port: 80, expect: 'allow' }] }),
  });
  assert.deepEqual(
    tests.map((t) => [t.from, t.to, t.port, t.protocol, t.expect]),
    [['a/b', 'c/d', 80, 'TCP', 'allow']],
  );
});

test('an empty list of tests is valid', () => {
  assert.deepEqual(parse('tests: []\n'), []);
});

test('unknown keys are errors at the key’s line, in a test and at the top', () => {
  assert.deepEqual(
    errorsOf(
      ['tests:', '  - from: a/b', '    to: c/d', '    expect: allow', '    prot: UDP', 'test: []'].join('\n'),
    ),
    [
      'tests.yaml:5:11: tests[0].prot: Unrecognized key: "prot"',
      'tests.yaml:6:7: test: Unrecognized key: "test"',
    ],
  );
});

test('expect must be allow or deny', () => {
  assert.deepEqual(errorsOf(['tests:', '  - from: a/b', '    to: c/d', '    expect: allowed'].join('\n')), [
    'tests.yaml:4:13: tests[0].expect: Invalid option: expected one of "allow"|"deny"',
  ]);
});

test('every field problem of every test is reported together', () => {
  const text = [
    'tests:',
    '  - name: ""',
    '    from: ""',
    '    to: c/d',
    '    port: 0',
    '    protocol: tcp',
    '    expect: allow',
    '  - from: a/b',
    '    port: Not_A_Name',
    '    expect: deny',
  ].join('\n');
  assert.deepEqual(errorsOf(text), [
    'tests.yaml:2:11: tests[0].name: Too small: expected string to have >=1 characters',
    'tests.yaml:3:11: tests[0].from: Too small: expected string to have >=1 characters',
    'tests.yaml:5:11: tests[0].port: Too small: expected number to be >=1',
    'tests.yaml:6:15: tests[0].protocol: Invalid option: expected one of "TCP"|"UDP"|"SCTP"',
    'tests.yaml:8:5: tests[1].to: Invalid input: expected string, received undefined',
    'tests.yaml:9:11: tests[1].port: not a valid port name',
  ]);
});

test('a fractional or too large port is rejected', () => {
  assert.deepEqual(
    errorsOf(
      'tests:\n  - {from: a, to: b, port: 80.5, expect: allow}\n  - {from: a, to: b, port: 65536, expect: allow}\n',
    ),
    [
      'tests.yaml:2:28: tests[0].port: Invalid input',
      'tests.yaml:3:28: tests[1].port: Too big: expected number to be <=65535',
    ],
  );
});

test('duplicate test names are errors at the later name, naming the earlier test', () => {
  const text = [
    'tests:',
    '  - {name: web, from: a, to: b, expect: allow}',
    '  - {name: db, from: a, to: c, expect: deny}',
    '  - {name: web, from: a, to: d, expect: deny}',
    '  - {from: a, to: e, expect: deny}',
    '  - {from: a, to: f, expect: deny}',
  ].join('\n');
  assert.deepEqual(errorsOf(text), [
    'tests.yaml:4:12: tests[2].name: duplicate test name "web" (also tests[0])',
  ]);
});

test('a file with no tests key, or tests that are not a list, is an error', () => {
  assert.deepEqual(errorsOf('tests: {from: a}\n'), [
    'tests.yaml:1:8: tests: Invalid input: expected array, received object',
  ]);
  assert.deepEqual(errorsOf('- from: a\n'), [
    'tests.yaml:1:1: Invalid input: expected object, received array',
  ]);
});

test('an empty file is an error, whether it has nothing, only comments or only a separator', () => {
  for (const text of ['', '# nothing yet\n', '---\n']) {
    assert.deepEqual(errorsOf(text), ['tests.yaml:1:1: the tests file is empty'], JSON.stringify(text));
  }
});

test('tests in a second document are an error, not silently never run', () => {
  const text = 'tests: []\n---\ntests:\n  - {from: a, to: b, expect: deny}\n';
  assert.deepEqual(errorsOf(text), [
    'tests.yaml:3:1: a tests file holds one document: list every test under the first one’s `tests:`',
  ]);
  // Separators around the only document are fine.
  assert.equal(parse('---\ntests: [{from: a, to: b, expect: deny}]\n---\n').length, 1);
});

test('a YAML syntax error in the tests file is positioned', () => {
  const errors = errorsOf('tests:\n  - from: [a\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', /^tests\.yaml:3:1: invalid YAML: /);
});

test('a test whose end cannot be a workload or an IP address is an error at that field', () => {
  assert.deepEqual(
    errorsOf(
      'tests:\n  - {from: not a workload, to: records/api, expect: deny}\n  - {from: a/b/c, to: 10.0.0.0/8, expect: deny}\n',
    ),
    [
      'tests.yaml:2:12: tests[0].from: "not a workload" is not a workload (ns/name or ns/name[Kind]) or an IP address: must be a lowercase RFC 1123 subdomain (a-z, 0-9, - and .)',
      'tests.yaml:3:12: tests[1].from: "a/b/c" is not a workload (ns/name or ns/name[Kind]) or an IP address',
      'tests.yaml:3:23: tests[1].to: "10.0.0.0/8" is not a workload (ns/name or ns/name[Kind]) or an IP address or fqdn:<name>: must be a lowercase RFC 1123 label (a-z, 0-9 and -, alphanumeric at both ends)',
    ],
  );
});
