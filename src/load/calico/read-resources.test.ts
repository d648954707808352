import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot } from '../../model/types.ts';
import { formatDiagnostic, InputError } from '../diagnostics.ts';
import { buildSnapshot } from '../snapshot.ts';

function load(text: string): Snapshot {
  return buildSnapshot([{ path: 'c.yaml', text }]);
}

function errorsOf(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

const NP =
  'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n';

test('a Calico NetworkPolicy is read with its meaning, beside a Kubernetes one of the same name', () => {
  const snapshot = load(`${NP}  tier: security
  order: 10.5
  selector: app == 'db'
  ingress:
  - action: Allow
    protocol: 6
    source: {selector: "role in {'web'}", nets: [10.0.0.0/8, 192.168.1.1]}
    destination: {ports: [5432, "6000:6010", pg], notPorts: [6005]}
  - action: Deny
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
`);
  assert.equal(snapshot.policies.length, 1);
  const calico = snapshot.calico;
  assert.ok(calico);
  const [policy] = calico.policies;
  assert.ok(policy);
  assert.equal(policy.kind, 'NetworkPolicy');
  assert.equal(policy.namespace, 'shop');
  assert.equal(policy.tier, 'security');
  assert.equal(policy.order, 10.5);
  assert.deepEqual(policy.types, { ingress: true, egress: false });
  const [allow, deny] = policy.ingress;
  assert.equal(allow?.protocol, 'TCP');
  assert.deepEqual(allow?.source.nets, ['10.0.0.0/8', '192.168.1.1/32']);
  assert.deepEqual(allow?.destination.ports, [
    { kind: 'range', from: 5432, to: 5432 },
    { kind: 'range', from: 6000, to: 6010 },
    { kind: 'named', name: 'pg' },
  ]);
  assert.equal(deny?.action, 'Deny');
  assert.deepEqual(
    calico.tiers.map((t) => [t.name, t.order, t.defaultAction]),
    [
      ['security', 100, 'Pass'],
      ['default', 1_000_000, 'Deny'],
    ],
  );
});

test('types default as Calico documents: Ingress, Egress with egress rules, only Egress without ingress rules', () => {
  const types = (spec: string) => load(`${NP}${spec}`).calico?.policies[0]?.types;
  assert.deepEqual(types('  selector: all()'), { ingress: true, egress: false });
  assert.deepEqual(types('  egress: [{action: Allow}]'), { ingress: false, egress: true });
  assert.deepEqual(types('  egress: [{action: Allow}]\n  ingress: [{action: Deny}]'), {
    ingress: true,
    egress: true,
  });
});

test('invalid Calico policies are rejected with positioned errors', () => {
  const errors = errorsOf(`${NP}  selector: app = 'db'
  types: [Ingress]
  ingress:
  - action: allow
  - action: Allow
    destination: {ports: [80]}
  - action: Allow
    protocol: TCP
    icmp: {type: 8}
  - action: Allow
    ipVersion: 4
    source: {nets: ["fd00::/8"]}
  egress:
  - action: Deny
`);
  assert.deepEqual(errors, [
    'c.yaml:5:13: spec.selector: invalid selector "app = \'db\'": unexpected "=" after label "app": expected ==, !=, in, not in, contains, starts with or ends with (at character 5)',
    'c.yaml:8:13: spec.ingress[0].action: unsupported action "allow": use Allow, Deny, Log, Pass',
    'c.yaml:10:26: spec.ingress[1].destination.ports: ports are only valid with protocol TCP, UDP, SCTP or UDPLite',
    'c.yaml:13:11: spec.ingress[2].icmp: icmp is only valid with protocol ICMP or ICMPv6',
    'c.yaml:16:21: spec.ingress[3].source.nets[0]: fd00::/8 is not an IPv4 network, but the rule says ipVersion 4',
    'c.yaml:17:3: spec.egress: egress rules are given but types does not include Egress',
  ]);
});

test('staged policies and host endpoints are listed as not analysed; doNotTrack policies are left out', () => {
  const snapshot = load(`apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: s, namespace: shop}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: h}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: raw}
spec: {doNotTrack: true, applyOnForward: true, ingress: [{action: Deny}]}
`);
  assert.deepEqual(snapshot.calico?.policies, []);
  const warnings = snapshot.warnings.map(formatDiagnostic);
  assert.ok(
    warnings.some((w) =>
      w.includes('StagedNetworkPolicy "s" not analysed: staged policies are not enforced'),
    ),
  );
  assert.ok(warnings.some((w) => w.includes('HostEndpoint "h" not analysed: host endpoints')));
  assert.ok(
    warnings.some((w) => w.includes('spec.doNotTrack: a doNotTrack policy applies only to host endpoints')),
  );
  assert.ok(warnings.some((w) => w.includes('StagedNetworkPolicy (projectcalico.org/v3) ×1')));
});

test('network sets keep their labels and nets; services and serviceAccounts are read', () => {
  const snapshot = load(`apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkSet
metadata: {name: partners, labels: {role: partner}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: db, namespace: shop, labels: {role: db}}
spec: {nets: [198.51.100.7]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  namespaceSelector: projectcalico.org/name == 'shop'
  egress:
  - action: Allow
    destination: {services: {name: api, namespace: shop}}
  - action: Allow
    source: {serviceAccounts: {names: [web], selector: "team == 'a'"}}
`);
  const calico = snapshot.calico;
  assert.deepEqual(
    calico?.networkSets.map((s) => [s.namespace, s.name, s.labels, s.nets]),
    [
      [undefined, 'partners', { role: 'partner' }, ['203.0.113.0/24']],
      ['shop', 'db', { role: 'db' }, ['198.51.100.7/32']],
    ],
  );
  const policy = calico?.policies[0];
  assert.deepEqual(policy?.egress[0]?.destination.services, { name: 'api', namespace: 'shop' });
  assert.deepEqual(policy?.egress[1]?.source.serviceAccounts?.names, ['web']);
  assert.equal(policy?.namespaceSelector?.source, "projectcalico.org/name == 'shop'");
});

test('a services match cannot be combined with selectors in an egress destination', () => {
  const errors = errorsOf(`apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  egress:
  - action: Allow
    destination: {services: {name: api}, selector: all()}
`);
  assert.deepEqual(errors, [
    "c.yaml:7:29: spec.egress[0].destination.services: cannot be combined with selector in an egress rule's destination",
  ]);
});
