import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { parseConnectivityTests } from '../load/connectivity-tests.ts';
import { InputError } from '../load/diagnostics.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { runConnectivityTests } from './connectivity-tests.ts';

// The source also has a port named http, on another number, so resolving the name on the wrong end shows.
const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec:
  containers:
    - name: c
      ports:
        - { name: http, containerPort: 8080 }
        - { name: dns, containerPort: 53, protocol: UDP }
status: { podIP: 10.1.0.5 }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: shop, labels: { app: client } }
spec:
  containers:
    - name: c
      ports: [{ name: http, containerPort: 9999 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-in, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress:
    - from: [{ podSelector: { matchLabels: { app: client } } }]
      ports: [{ port: 8080 }]
`;

function run(testsYaml: string) {
  const engine = new Engine(buildSnapshot([{ path: 'cluster.yaml', text: MANIFESTS }]));
  return runConnectivityTests(engine, parseConnectivityTests({ path: 'tests.yaml', text: testsYaml }));
}

function inputErrorOf(testsYaml: string): InputError {
  try {
    run(testsYaml);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  assert.fail('expected an InputError');
}

test('a test passes when the verdict matches its expectation and fails otherwise', () => {
  const results = run(`
tests:
  - { name: allowed, from: shop/client, to: shop/web, port: 8080, expect: allow }
  - { name: denied, from: shop/client, to: shop/web, port: 8081, expect: deny }
  - { name: wrong allow, from: shop/client, to: shop/web, port: 8081, expect: allow }
  - { name: wrong deny, from: shop/client, to: shop/web, port: 8080, expect: deny }
`);
  assert.deepEqual(
    results.map((r) => [r.name, r.actual, r.pass]),
    [
      ['allowed', 'allow', true],
      ['denied', 'deny', true],
      ['wrong allow', 'deny', false],
      ['wrong deny', 'allow', false],
    ],
  );
});

test('an external source is judged by the destination alone', () => {
  const [outside] = run('tests: [{ from: 203.0.113.1, to: shop/web, port: 8080, expect: deny }]');
  assert.equal(outside?.pass, true);
  const [toOutside] = run('tests: [{ from: shop/web, to: 203.0.113.1, port: 443, expect: allow }]');
  assert.equal(toOutside?.pass, true);
});

test('a named port resolves on the destination, not the source', () => {
  const [result] = run('tests: [{ from: shop/client, to: shop/web, port: http, expect: allow }]');
  assert.equal(result?.actual, 'allow');
  assert.equal(result?.explanation.query?.port, 8080);
  // The result reports the port as the user wrote it.
  assert.equal(result?.port, 'http');
});

test('a named port resolves with the test protocol', () => {
  const [result] = run(
    'tests: [{ from: shop/client, to: shop/web, port: dns, protocol: UDP, expect: deny }]',
  );
  assert.deepEqual(result?.explanation.query, { protocol: 'UDP', port: 53 });
});

test('an unknown named port is an input error positioned at the port field', () => {
  const error = inputErrorOf(`tests:
  - { from: shop/web, to: shop/client, port: 8080, expect: allow }
  - from: shop/client
    to: shop/web
    port: grpc
    expect: allow
`);
  assert.equal(error.diagnostics.length, 1);
  const [d] = error.diagnostics;
  assert.deepEqual([d?.file, d?.line, d?.column, d?.field], ['tests.yaml', 5, 11, 'tests[1].port']);
  assert.match(d?.message ?? '', /shop\/web\[Pod\] has no TCP port named "grpc"/);
});

test('a named port of another protocol does not count', () => {
  const error = inputErrorOf('tests: [{ from: shop/client, to: shop/web, port: dns, expect: allow }]');
  assert.match(error.diagnostics[0]?.message ?? '', /no TCP port named "dns"/);
});

test('a named port needs a workload destination', () => {
  const error = inputErrorOf('tests: [{ from: shop/web, to: 203.0.113.1, port: http, expect: allow }]');
  assert.match(error.diagnostics[0]?.message ?? '', /needs a workload destination/);
});

test('every unknown workload and port is reported, not only the first', () => {
  const error = inputErrorOf(`tests:
  - { from: shop/nope, to: shop/web, port: 80, expect: allow }
  - { from: shop/client, to: shop/gone, port: 80, expect: allow }
  - { from: shop/client, to: shop/web, port: grpc, expect: allow }
`);
  assert.deepEqual(
    error.diagnostics.map((d) => [d.line, /unknown workload|no TCP port/.exec(d.message)?.[0]]),
    [
      [2, 'unknown workload'],
      [3, 'unknown workload'],
      [4, 'no TCP port'],
    ],
  );
});

test('a test without a name is named after what it checks', () => {
  const results = run(`tests:
  - { from: shop/client, to: shop/web, port: 8080, expect: allow }
  - { from: shop/client, to: shop/web, protocol: UDP, expect: deny }
  - { name: kept, from: shop/client, to: shop/web, port: http, expect: allow }
`);
  assert.deepEqual(
    results.map((r) => r.name),
    ['shop/client -> shop/web TCP 8080 allow', 'shop/client -> shop/web UDP deny', 'kept'],
  );
});

test('a test without a port asks whether any port of the protocol is allowed', () => {
  const [tcp, udp] = run(`tests:
  - { from: shop/client, to: shop/web, expect: allow }
  - { from: shop/client, to: shop/web, protocol: UDP, expect: deny }
`);
  assert.equal(tcp?.port, null);
  assert.equal(tcp?.pass, true);
  assert.equal(udp?.actual, 'deny');
});
