import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { parseConnectivityTests } from '../load/connectivity-tests.ts';
import { InputError } from '../load/diagnostics.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { renderTestResults, testResultsJson } from '../report/connectivity-tests.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../testing/cilium-cluster.ts';
import { yaml } from '../testing/yaml.ts';
import { isNamedExplanation, runConnectivityTests } from './connectivity-tests.ts';

// A test may name a toFQDNs destination (`to: fqdn:<name>`): its answer is explain's for the name
// (Cilium's docs, DNS based policies): the rules naming it, a deny of `world` taking every name, a deny
// of some CIDRs taking it only if the name resolves there, all resting on DNS.

const POLICIES = yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: web, namespace: shop}
  spec:
    endpointSelector: {matchLabels: {app: web}}
    egress:
      - toFQDNs: [{matchName: api.stripe.com}]  # stripe
        toPorts: [{ports: [{port: "443", protocol: TCP}, {port: "80", protocol: TCP}]}]
      - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system}}]
        toPorts:
          - ports: [{port: "53", protocol: ANY}]
            rules: {dns: [{matchPattern: "*"}]}
    egressDeny:
      - toEntities: [world]  # deny-world
        toPorts: [{ports: [{port: "80", protocol: TCP}]}]
`;

const TEXT = `${CILIUM_CLUSTER}\n---\n${POLICIES}`;
const at = (marker: string) => `c.yaml:${TEXT.split('\n').findIndex((l) => l.endsWith(`# ${marker}`)) + 1}`;
const engine = new Engine(buildSnapshot([{ path: 'c.yaml', text: TEXT }]), CILIUM_OPTIONS);

function run(testsYaml: string) {
  return runConnectivityTests(engine, parseConnectivityTests({ path: 'tests.yaml', text: testsYaml }));
}

function errorsOf(testsYaml: string): string[] {
  try {
    run(testsYaml);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.field ?? ''}: ${d.message}`);
  }
  assert.fail('expected an InputError');
}

test('a test of a toFQDNs destination is judged by the rules naming it and the denies of every address', () => {
  const results = run(yaml`
    tests:
      - {name: stripe-https, from: shop/web, to: fqdn:api.stripe.com, port: 443, expect: allow}
      - {name: stripe-http, from: shop/web, to: fqdn:api.stripe.com, port: 80, expect: allow}
      - {name: elsewhere, from: shop/web, to: fqdn:example.org, port: 443, expect: deny}
      - {name: unselected, from: shop/api, to: fqdn:example.org, port: 443, expect: deny}
  `);
  assert.deepEqual(
    results.map((r) => [r.name, r.actual, r.pass]),
    [
      ['stripe-https', 'allow', true],
      ['stripe-http', 'deny', false],
      ['elsewhere', 'deny', true],
      // No policy isolates api's egress: every address outside the cluster is open, whatever the name is.
      ['unselected', 'allow', false],
    ],
  );
  assert.ok(results.every((r) => isNamedExplanation(r.explanation)));
  const reasons = testResultsJson(results).results.map((r) => r.reason);
  assert.match(reasons[0] ?? '', new RegExp(`allowed by .*egress\\[0\\].*\\(${at('stripe')}\\)`));
  assert.match(
    reasons[1] ?? '',
    new RegExp(`denied by .*\\(${at('deny-world')}\\), a deny of every address`),
  );
  assert.match(reasons[2] ?? '', /no toFQDNs rule of a policy selecting it names fqdn:example\.org/);
  assert.match(reasons[3] ?? '', /open to every address outside the cluster/);
  for (const reason of reasons) assert.match(reason, /rests on DNS resolution/);
});

test('every output format carries the reason of a failed toFQDNs test', () => {
  const results = run(
    'tests:\n  - {name: http, from: shop/web, to: fqdn:api.stripe.com, port: 80, expect: allow}\n',
  );
  const reason = `egress of shop/web\\[Pod\\]: denied by CiliumNetworkPolicy/shop/web egressDeny\\[0\\] \\(${at('deny-world')}\\), a deny of every address outside the cluster, which wins over the allow of CiliumNetworkPolicy/shop/web egress\\[0\\]`;
  assert.match(
    renderTestResults(results, 'text'),
    new RegExp(`FAIL http\\n {5}expected allow, got deny: ${reason}`),
  );
  assert.match(
    renderTestResults(results, 'junit'),
    new RegExp(`<failure message="expected allow, got deny">${reason}`),
  );
});

test('a toFQDNs destination needs a workload source and a port number, and a DNS name', () => {
  assert.deepEqual(
    errorsOf(yaml`
      tests:
        - {from: 203.0.113.9, to: fqdn:api.stripe.com, expect: deny}
        - {from: shop/web, to: fqdn:api.stripe.com, port: https, expect: deny}
    `),
    [
      'tests.yaml:2:12: tests[0].from: "203.0.113.9" is an address outside the cluster: no policy phiwall reads governs its egress to "fqdn:api.stripe.com"',
      'tests.yaml:3:53: tests[1].port: named port "https" needs a workload destination, not fqdn:api.stripe.com',
    ],
  );
  assert.deepEqual(
    errorsOf(yaml`
      tests:
        - {from: fqdn:api.stripe.com, to: shop/web, expect: deny}
        - {from: shop/web, to: "fqdn:bad..name", expect: deny}
    `),
    [
      'tests.yaml:2:12: tests[0].from: "fqdn:api.stripe.com" is a toFQDNs name, whose addresses are known only at run time: only a connectivity test\'s `to` takes one',
      'tests.yaml:3:26: tests[1].to: "fqdn:bad..name" is not a DNS name: it has an empty label',
    ],
  );
});
