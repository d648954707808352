import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { yaml } from '../../testing/yaml.ts';
import { formatDiagnostic, InputError } from '../diagnostics.ts';
import { buildSnapshot } from '../snapshot.ts';

const load = (text: string) => buildSnapshot([{ path: 'p.yaml', text }]);

function errorsOf(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

const cnp = (spec: string, kind = 'CiliumNetworkPolicy') =>
  `apiVersion: cilium.io/v2\nkind: ${kind}\nmetadata: {name: p, namespace: shop}\nspec:\n${spec
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;

describe('CiliumNetworkPolicy loader', () => {
  test('reads every field of a rule, denies first, with the implicit namespace in selectors', () => {
    const snapshot = load(
      cnp(yaml`
        endpointSelector: {matchLabels: {app: db}}
        enableDefaultDeny: {egress: false}
        ingress:
          - fromEndpoints: [{matchLabels: {app: api}}, {matchLabels: {k8s:io.kubernetes.pod.namespace: ops}}]
            toPorts: [{ports: [{port: "5432", protocol: TCP}, {port: "8000", endPort: 8100}, {port: metrics}]}]
          - fromEntities: [world]
            icmps: [{fields: [{type: 8}, {type: EchoRequest, family: IPv6}]}]
        ingressDeny:
          - fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]
        egress:
          - toFQDNs: [{matchPattern: "*.example.com"}]
            toPorts: [{ports: [{port: "443"}], rules: {http: [{method: GET}]}}]
      `),
    );
    const [policy] = snapshot.ciliumPolicies;
    assert.ok(policy);
    assert.deepEqual(policy.endpointSelector.matchLabels, {
      'any:app': 'db',
      'k8s:io.kubernetes.pod.namespace': 'shop',
    });
    assert.deepEqual(policy.defaultDeny, { ingress: true, egress: false });
    assert.deepEqual(
      policy.ingress.map((r) => r.field),
      ['ingressDeny', 'ingress', 'ingress'],
    );
    const allow = policy.ingress[1];
    assert.deepEqual(allow?.peers, [
      {
        kind: 'endpoints',
        selector: {
          matchLabels: { 'any:app': 'api', 'k8s:io.kubernetes.pod.namespace': 'shop' },
          matchExpressions: [],
        },
      },
      {
        kind: 'endpoints',
        selector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'ops' }, matchExpressions: [] },
      },
    ]);
    assert.deepEqual(allow?.ports, [
      { port: 5432, protocols: ['TCP'] },
      { port: 8000, endPort: 8100, protocols: ['TCP', 'UDP', 'SCTP'] },
      { port: 'metrics', protocols: ['TCP', 'UDP', 'SCTP'] },
    ]);
    assert.deepEqual(policy.ingress[2]?.icmpTypes, [8, 128]);
    assert.deepEqual(policy.ingress[0]?.peers, [
      { kind: 'cidr', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] },
    ]);
    assert.deepEqual(policy.egress[0]?.peers, [{ kind: 'fqdn', pattern: '*.example.com' }]);
    assert.deepEqual(policy.egress[0]?.l7, ['http']);
  });

  test('a clusterwide policy requires a namespace label of peers that name none; reserved selectors stay as written', () => {
    const snapshot = load(
      cnp(
        yaml`
        endpointSelector: {}
        egress:
          - toEndpoints: [{}, {matchLabels: {reserved:host: ""}}]
      `,
        'CiliumClusterwideNetworkPolicy',
      ),
    );
    const [policy] = snapshot.ciliumPolicies;
    assert.equal(policy?.namespace, '');
    assert.deepEqual(policy?.endpointSelector, { matchLabels: {}, matchExpressions: [] });
    assert.deepEqual(policy?.egress[0]?.peers, [
      {
        kind: 'endpoints',
        selector: {
          matchLabels: {},
          matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists', values: [] }],
        },
      },
      { kind: 'endpoints', selector: { matchLabels: { 'reserved:host': '' }, matchExpressions: [] } },
    ]);
  });

  test('specs: each entry is a rule set of its own; a host policy (nodeSelector) is warned about, not analysed', () => {
    const snapshot = load(yaml`
      apiVersion: cilium.io/v2
      kind: CiliumClusterwideNetworkPolicy
      metadata: {name: two}
      specs:
        - {endpointSelector: {matchLabels: {app: a}}, ingress: [{}]}
        - {nodeSelector: {}, ingress: [{fromEntities: [cluster]}]}
    `);
    assert.deepEqual(
      snapshot.ciliumPolicies.map((p) => p.specPath),
      ['specs[0]'],
    );
    assert.ok(
      snapshot.warnings.some((w) =>
        /CiliumClusterwideNetworkPolicy\/two specs\[1\] is a host policy \(nodeSelector\): not analysed/.test(
          w.message,
        ),
      ),
    );
  });

  test('positioned errors for what the CRD and Cilium reject', () => {
    const errors = errorsOf(
      cnp(yaml`
        endpointSelector: {matchLabels: {app: db}}
        ingress:
          - fromEntities: [internet]
            toPorts: [{ports: [{port: 80}]}]
          - fromCIDR: [10.0.0.0/33]
            toPorts: [{ports: [{port: "80", protocol: ICMP}]}]
          - fromEndpoints: [{matchLabels: {app: a}}]
            toPorts: [{ports: [{port: "80"}]}]
            icmps: [{fields: [{type: 8}]}]
        egressDeny:
          - toFQDNs: [{matchName: example.com}]
      `),
    );
    assert.deepEqual(errors, [
      'p.yaml:7:22: spec.ingress[0].fromEntities[0]: unknown entity "internet": use all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, health, init, unmanaged',
      'p.yaml:8:33: spec.ingress[0].toPorts[0].ports[0].port: must be a string, not number 80 (quote it: "80")',
      'p.yaml:9:18: spec.ingress[1].fromCIDR[0]: "10.0.0.0/33" is not a valid CIDR',
      'p.yaml:10:49: spec.ingress[1].toPorts[0].ports[0].protocol: unsupported protocol "ICMP": use TCP, UDP, SCTP or ANY (icmps for ICMP)',
      'p.yaml:13:14: spec.ingress[2].icmps: icmps cannot be used together with toPorts in one rule',
      'p.yaml:15:16: spec.egressDeny[0].toFQDNs: unknown field "toFQDNs"',
    ]);
  });

  test('exactly one of endpointSelector and nodeSelector', () => {
    assert.deepEqual(errorsOf(cnp('ingress: [{}]')), [
      'p.yaml:4:1: spec: exactly one of endpointSelector or nodeSelector is required',
    ]);
  });

  test('CiliumCIDRGroups are read and referenced by name or label', () => {
    const snapshot = load(yaml`
      apiVersion: cilium.io/v2alpha1
      kind: CiliumCIDRGroup
      metadata: {name: partners, labels: {kind: partner}}
      spec: {externalCIDRs: [192.0.2.0/24, 198.51.100.7]}
    `);
    assert.deepEqual(
      snapshot.ciliumCidrGroups.map((g) => [g.name, g.labels, g.cidrs]),
      [['partners', { kind: 'partner' }, ['192.0.2.0/24', '198.51.100.7/32']]],
    );
    assert.deepEqual([...snapshot.skippedKinds], []);
  });
});
